package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "RuleLevelPolicy",
		Description: "A policy targeting one HTTPRoute rule by sectionName protects that rule only; the route's other rule stays open.",
		Features:    []features.Name{features.RuleLevel},
		Keys:        []string{"client1"},
		Manifests:   []string{baseBackend, baseGateway, routeRules, "secret.yaml", "policy.yaml"},
		Steps: []scenario.Step{
			denied(toSpecialRule),
			allowed(toSpecialRule.WithHeader("api-key", key("client1")), received().Without("api-key")),
			allowed(toOtherRule, received().Without("api-key")),
		},
	})
}
