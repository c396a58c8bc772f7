package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "DisableOnRoute",
		Description: "The seed's disable: `disable: {}` on one HTTPRoute switches the Gateway-level policy off there " +
			"(requests pass untouched, key header included) and nowhere else.",
		Features:  []features.Name{features.APIKeyAuth, features.Disable, features.RouteLevel},
		Keys:      []string{"client1"},
		Manifests: []string{baseBackend, baseGateway, routesByHost, "secret.yaml", "policies.yaml"},
		Steps: []scenario.Step{
			allowed(toOther, received().Without("api-key")),
			allowed(toOther.WithHeader("api-key", key("client1")), received().Header("api-key", key("client1"))),
			denied(toSpecial),
			allowed(toSpecial.WithHeader("api-key", key("client1")), received().Without("api-key")),
		},
	})
}
