package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "DisableOnListener",
		Description: "`disable: {}` on one Gateway listener switches the Gateway-level policy off on that listener only.",
		Features:    []features.Name{features.APIKeyAuth, features.Disable, features.ListenerLevel},
		Keys:        []string{"client1"},
		Manifests:   []string{baseBackend, gatewayTwoListener, baseRoute, "secret.yaml", "policies.yaml"},
		Steps: []scenario.Step{
			allowed(anything.On(scenario.DefaultGateway, adminPort), received().Without("api-key")),
			denied(anything),
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
		},
	})
}
