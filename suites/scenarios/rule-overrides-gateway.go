package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "RuleOverridesGateway",
		Description: "A rule-level policy replaces the Gateway-level one on its rule; the route's other rule keeps the Gateway's.",
		Features:    []features.Name{features.APIKeyAuth, features.RuleLevel, features.HeaderSource},
		Keys:        []string{"gateway", "rule"},
		Manifests:   []string{baseBackend, baseGateway, routeRules, "secrets.yaml", "policies.yaml"},
		Steps: []scenario.Step{
			allowed(toSpecialRule.WithHeader("x-rule-key", key("rule")), received().Without("x-rule-key")),
			denied(toSpecialRule.WithHeader("api-key", key("gateway"))),
			allowed(toOtherRule.WithHeader("api-key", key("gateway")), received().Without("api-key")),
			denied(toOtherRule.WithHeader("x-rule-key", key("rule"))),
		},
	})
}
