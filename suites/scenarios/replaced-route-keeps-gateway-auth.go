package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "ReplacedRouteKeepsGatewayAuth",
		Description: "A route replaced for its invalid policy loses only its own per-filter config: the valid Gateway " +
			"policy still runs before the router's 500, so a request without the Gateway's key gets 401 and one with " +
			"it gets 500 (kgateway: the route says Accepted=False RouteRuleReplaced; other implementations may answer 500 first).",
		Features:  []features.Name{features.FailClosed, features.RouteLevel},
		Keys:      []string{"gateway"},
		Manifests: withBase("secret.yaml", "gateway-policy.yaml", "route-policy.yaml"),
		Steps: []scenario.Step{
			replaced(anything.WithHeader("api-key", key("gateway"))),
			kgatewayReplaced(anything.WithHeader("api-key", key("gateway"))),
			// kgateway keeps the Gateway's per-filter config above the replaced
			// route; Envoy Gateway's 500 answers before any policy applies.
			scenario.Only(features.KgatewayReplacement, denied(anything)),
			scenario.ExpectPolicy("route-auth", policyInvalid),
			kgatewayStatus(scenario.ExpectRoute("httpbin", routeReplaced), scenario.ExpectGateway("gw", accepted)),
		},
	})
}
