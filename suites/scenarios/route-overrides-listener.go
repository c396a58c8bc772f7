package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	Catalog.Register(harness.Scenario{
		ShortName: "RouteOverridesListener",
		Description: "A route-level policy is more specific than a listener-level one: on the listener the route policy " +
			"wins, and the route is protected by it on the other listener too.",
		Features:  []features.Name{features.ListenerLevel, features.RouteLevel},
		Keys:      []string{"listener", "route"},
		Manifests: []string{baseBackend, gatewayTwoListener, baseRoute, "secrets.yaml", "policies.yaml"},
		Steps: []harness.Step{
			allowed(anything.On(harness.DefaultGateway, adminPort).WithHeader("api-key", key("route")), received().Without("api-key")),
			denied(anything.On(harness.DefaultGateway, adminPort).WithHeader("api-key", key("listener"))),
			allowed(anything.WithHeader("api-key", key("route")), received().Without("api-key")),
			denied(anything),
		},
	})
}
