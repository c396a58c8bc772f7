package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "RepeatedQueryParameter",
		Description: "When the key parameter is repeated only its first value counts, and every occurrence is removed " +
			"before the backend.",
		Features:  []features.Name{features.QuerySource},
		Keys:      []string{"client1", "unknown"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(scenario.Get("/anything?api_key="+key("client1")+"&foo=bar&api_key="+key("unknown")),
				received().WithoutArgs("api_key").Arg("foo", "bar")),
			denied(scenario.Get("/anything?api_key=" + key("unknown") + "&api_key=" + key("client1"))),
		},
	})
}
