package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "RepeatedHeader",
		Description: "When the key header is repeated only its first value counts: a valid first value is accepted " +
			"(and every value removed upstream), a wrong first value is refused even if a later one is valid.",
		Features:  []features.Name{features.APIKeyAuth},
		Keys:      []string{"client1", "unknown"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("client1")).WithHeader("api-key", key("unknown")),
				received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("unknown")).WithHeader("api-key", key("client1"))),
		},
	})
}
