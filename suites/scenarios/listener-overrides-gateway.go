package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "ListenerOverridesGateway",
		Description: "A listener-level policy replaces the Gateway-level one on its listener; the other listener keeps the Gateway's.",
		Features:    []features.Name{features.APIKeyAuth, features.ListenerLevel},
		Keys:        []string{"gateway", "listener"},
		Manifests:   []string{baseBackend, gatewayTwoListener, baseRoute, "secrets.yaml", "policies.yaml"},
		Steps: []scenario.Step{
			allowed(anything.On(scenario.DefaultGateway, adminPort).WithHeader("api-key", key("listener")), received().Without("api-key")),
			denied(anything.On(scenario.DefaultGateway, adminPort).WithHeader("api-key", key("gateway"))),
			allowed(anything.WithHeader("api-key", key("gateway")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("listener"))),
		},
	})
}
