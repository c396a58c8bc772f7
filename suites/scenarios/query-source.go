package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	Catalog.Register(harness.Scenario{
		ShortName: "QuerySource",
		Description: "With keySources [query api_key] the key is read from the query, removed from it before the backend " +
			"with every other parameter kept; an empty or missing parameter, or the key in a header, is refused.",
		Features:  []features.Name{features.QuerySource},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []harness.Step{
			allowed(harness.Get("/anything?api_key="+key("client1")),
				received().WithoutArgs("api_key")),
			allowed(harness.Get("/anything?foo=bar&api_key="+key("client1")+"&baz=1"),
				received().WithoutArgs("api_key").Arg("foo", "bar").Arg("baz", "1")),
			denied(harness.Get("/anything?api_key=")),
			denied(harness.Get("/anything?foo=bar")),
			denied(anything.WithHeader("api-key", key("client1"))),
		},
	})
}
