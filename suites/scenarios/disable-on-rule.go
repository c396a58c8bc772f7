package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "DisableOnRule",
		Description: "`disable: {}` on one HTTPRoute rule switches the Gateway-level policy off for that rule only.",
		Features:    []features.Name{features.APIKeyAuth, features.Disable, features.RuleLevel},
		Keys:        []string{"client1"},
		Manifests:   []string{baseBackend, baseGateway, routeRules, "secret.yaml", "policies.yaml"},
		Steps: []scenario.Step{
			allowed(toOtherRule, received().Without("api-key")),
			denied(toSpecialRule),
			allowed(toSpecialRule.WithHeader("api-key", key("client1")), received().Without("api-key")),
		},
	})
}
