package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "HeaderNameCaseInsensitive",
		Description: "A header source written X-API-KEY matches the header in any case: x-api-key, X-Api-Key, X-API-KEY.",
		Features:    []features.Name{features.HeaderSource},
		Keys:        []string{"client1"},
		Manifests:   withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("x-api-key", key("client1")), received().Without("X-API-KEY")),
			allowed(anything.WithHeader("X-Api-Key", key("client1")), received().Without("X-API-KEY")),
			allowed(anything.WithHeader("X-API-KEY", key("client1")), received().Without("X-API-KEY")),
		},
	})
}
