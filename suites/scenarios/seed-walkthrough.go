package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "SeedWalkthrough",
		Description: "The seed document's walk-through: Secret apikey, a Gateway-level policy, 401 without a key, 200 with `api-key: Bearer <key>`, and open again once the policy is deleted.",
		Features:    []features.Name{features.APIKeyAuth},
		Keys:        []string{"seed"},
		Manifests:   withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			denied(scenario.Get("/headers")),
			allowed(scenario.Get("/headers").WithHeader("api-key", "Bearer "+key("seed")),
				received().Without("api-key")),
			scenario.Delete("policy.yaml"),
			allowed(scenario.Get("/headers"), received().Without("api-key")),
		},
	})
}
