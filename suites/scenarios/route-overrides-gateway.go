package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "RouteOverridesGateway",
		Description: "A route-level policy replaces the Gateway-level one on its route, keys and sources alike, " +
			"while the other routes keep the Gateway-level policy.",
		Features:  []features.Name{features.APIKeyAuth, features.RouteLevel, features.HeaderSource},
		Keys:      []string{"gateway", "route"},
		Manifests: []string{baseBackend, baseGateway, routesByHost, "secrets.yaml", "policies.yaml"},
		Steps: []scenario.Step{
			allowed(toSpecial.WithHeader("x-route-key", key("route")), received().Without("x-route-key")),
			denied(toSpecial.WithHeader("api-key", key("gateway"))),
			denied(toSpecial.WithHeader("x-route-key", key("gateway"))),
			denied(toSpecial.WithHeader("api-key", key("route"))),
			allowed(toOther.WithHeader("api-key", key("gateway")), received().Without("api-key")),
			denied(toOther.WithHeader("x-route-key", key("route"))),
			denied(toOther),
		},
	})
}
