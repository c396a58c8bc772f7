package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "RouteOverridesListener",
		Description: "A route-level policy is more specific than a listener-level one: on the listener the route policy " +
			"wins, and the route is protected by it on the other listener too.",
		Features:  []features.Name{features.ListenerLevel, features.RouteLevel},
		Keys:      []string{"listener", "route"},
		Manifests: []string{baseBackend, gatewayTwoListener, baseRoute, "secrets.yaml", "policies.yaml"},
		Steps: []scenario.Step{
			allowed(anything.On(scenario.DefaultGateway, adminPort).WithHeader("api-key", key("route")), received().Without("api-key")),
			denied(anything.On(scenario.DefaultGateway, adminPort).WithHeader("api-key", key("listener"))),
			allowed(anything.WithHeader("api-key", key("route")), received().Without("api-key")),
			denied(anything),
		},
	})
}
