package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	Catalog.Register(harness.Scenario{
		ShortName:   "GatewayPolicyAllRoutes",
		Description: "A Gateway-level policy covers every HTTPRoute attached to the Gateway.",
		Features:    []features.Name{features.APIKeyAuth},
		Keys:        []string{"client1"},
		Manifests:   []string{baseBackend, baseGateway, routesByHost, "secret.yaml", "policy.yaml"},
		Steps: []harness.Step{
			denied(toSpecial),
			denied(toOther),
			allowed(toSpecial.WithHeader("api-key", key("client1")), received().Without("api-key")),
			allowed(toOther.WithHeader("api-key", key("client1")), received().Without("api-key")),
		},
	})
}
