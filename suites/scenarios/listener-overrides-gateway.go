package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	Catalog.Register(harness.Scenario{
		ShortName:   "ListenerOverridesGateway",
		Description: "A listener-level policy replaces the Gateway-level one on its listener; the other listener keeps the Gateway's.",
		Features:    []features.Name{features.APIKeyAuth, features.ListenerLevel},
		Keys:        []string{"gateway", "listener"},
		Manifests:   []string{baseBackend, gatewayTwoListener, baseRoute, "secrets.yaml", "policies.yaml"},
		Steps: []harness.Step{
			allowed(anything.On(harness.DefaultGateway, adminPort).WithHeader("api-key", key("listener")), received().Without("api-key")),
			denied(anything.On(harness.DefaultGateway, adminPort).WithHeader("api-key", key("gateway"))),
			allowed(anything.WithHeader("api-key", key("gateway")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("listener"))),
		},
	})
}
