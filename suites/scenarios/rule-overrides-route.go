package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "RuleOverridesRoute",
		Description: "A rule-level policy is more specific than a policy on its HTTPRoute and wins on that rule only.",
		Features:    []features.Name{features.RouteLevel, features.RuleLevel},
		Keys:        []string{"route", "rule"},
		Manifests:   []string{baseBackend, baseGateway, routeRules, "secrets.yaml", "policies.yaml"},
		Steps: []scenario.Step{
			allowed(toSpecialRule.WithHeader("api-key", key("rule")), received().Without("api-key")),
			denied(toSpecialRule.WithHeader("api-key", key("route"))),
			allowed(toOtherRule.WithHeader("api-key", key("route")), received().Without("api-key")),
			denied(toOtherRule.WithHeader("api-key", key("rule"))),
		},
	})
}
