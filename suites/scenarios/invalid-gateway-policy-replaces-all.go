package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "InvalidGatewayPolicyReplacesAll",
		Description: "An invalid Gateway-wide policy replaces the Gateway's whole route configuration: even a route with a " +
			"valid policy of its own answers 500, and the Gateway says Accepted=False GatewayReplaced while the route " +
			"stays accepted; deleting the broken policy restores the route's own auth.",
		Features:  []features.Name{features.FailClosed, features.RouteLevel, features.KgatewayReplacement},
		Keys:      []string{"route-client"},
		Manifests: withBase("route-secret.yaml", "route-policy.yaml", "gateway-policy.yaml"),
		Steps: []scenario.Step{
			replaced(anything.WithHeader("api-key", key("route-client"))),
			kgatewayReplaced(anything.WithHeader("api-key", key("route-client"))),
			replaced(anything),
			scenario.ExpectPolicy("gateway-auth", policyInvalid),
			scenario.ExpectPolicy("route-auth", policyAccepted),
			kgatewayStatus(
				scenario.ExpectGateway("gw", scenario.Condition{Type: "Accepted", Status: "False", Reason: "GatewayReplaced",
					MessageContains: []string{"absent-keys"}}),
				scenario.ExpectRoute("httpbin", routeAccepted)),
			scenario.Delete("gateway-policy.yaml"),
			allowed(anything.WithHeader("api-key", key("route-client")), received().Without("api-key")),
			denied(anything),
			kgatewayStatus(scenario.ExpectGateway("gw", accepted)),
		},
	})
}
