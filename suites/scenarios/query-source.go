package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "QuerySource",
		Description: "With keySources [query api_key] the key is read from the query, removed from it before the backend " +
			"with every other parameter kept; an empty or missing parameter, or the key in a header, is refused.",
		Features:  []features.Name{features.QuerySource},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(scenario.Get("/anything?api_key="+key("client1")),
				received().WithoutArgs("api_key")),
			allowed(scenario.Get("/anything?foo=bar&api_key="+key("client1")+"&baz=1"),
				received().WithoutArgs("api_key").Arg("foo", "bar").Arg("baz", "1")),
			denied(scenario.Get("/anything?api_key=")),
			denied(scenario.Get("/anything?foo=bar")),
			denied(anything.WithHeader("api-key", key("client1"))),
		},
	})
}
