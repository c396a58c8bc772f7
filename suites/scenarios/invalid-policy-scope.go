package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	Catalog.Register(harness.Scenario{
		ShortName: "InvalidPolicyScope",
		Description: "An invalid route-level policy replaces only the route it covers with the 500 direct response; " +
			"another route of the same Gateway keeps serving.",
		Features:  []features.Name{features.FailClosed, features.RouteLevel},
		Keys:      []string{"client1"},
		Manifests: []string{baseBackend, baseGateway, routesByHost, "policy.yaml"},
		Steps: []harness.Step{
			replaced(toSpecial),
			kgatewayReplaced(toSpecial),
			allowed(toOther, received().Without("api-key")),
			harness.ExpectPolicy("apikey-auth", policyInvalid),
			kgatewayStatus(
				harness.ExpectRoute("special", harness.Condition{Type: "Accepted", Status: "False", Reason: "RouteRuleReplaced",
					MessageContains: []string{"Replaced Rule (0): gateway.kgateway.dev/TrafficPolicy/{{.Namespace}}/apikey-auth: "}}),
				harness.ExpectRoute("other", routeAccepted)),
		},
	})
}
