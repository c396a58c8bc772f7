package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "GatewayPolicyAllRoutes",
		Description: "A Gateway-level policy covers every HTTPRoute attached to the Gateway.",
		Features:    []features.Name{features.APIKeyAuth},
		Keys:        []string{"client1"},
		Manifests:   []string{baseBackend, baseGateway, routesByHost, "secret.yaml", "policy.yaml"},
		Steps: []scenario.Step{
			denied(toSpecial),
			denied(toOther),
			allowed(toSpecial.WithHeader("api-key", key("client1")), received().Without("api-key")),
			allowed(toOther.WithHeader("api-key", key("client1")), received().Without("api-key")),
		},
	})
}
