package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "InvalidPolicyScope",
		Description: "An invalid route-level policy replaces only the route it covers with the 500 direct response; " +
			"another route of the same Gateway keeps serving.",
		Features:  []features.Name{features.FailClosed, features.RouteLevel},
		Keys:      []string{"client1"},
		Manifests: []string{baseBackend, baseGateway, routesByHost, "policy.yaml"},
		Steps: []scenario.Step{
			replaced(toSpecial),
			kgatewayReplaced(toSpecial),
			allowed(toOther, received().Without("api-key")),
			scenario.ExpectPolicy("apikey-auth", policyInvalid),
			kgatewayStatus(
				scenario.ExpectRoute("special", scenario.Condition{Type: "Accepted", Status: "False", Reason: "RouteRuleReplaced",
					MessageContains: []string{"Replaced Rule (0): gateway.kgateway.dev/TrafficPolicy/{{.Namespace}}/apikey-auth: "}}),
				scenario.ExpectRoute("other", routeAccepted)),
		},
	})
}
