package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "RouteReplacesWhole",
		Description: "Policies do not merge field by field: a route-level policy without clientIdHeader and forwardCredential " +
			"turns both off on its route even though the Gateway-level policy sets them.",
		Features:  []features.Name{features.RouteLevel, features.ClientIDHeader, features.ForwardCredential},
		Keys:      []string{"client1"},
		Manifests: []string{baseBackend, baseGateway, routesByHost, "secret.yaml", "policies.yaml"},
		Steps: []scenario.Step{
			allowed(toOther.WithHeader("api-key", key("client1")),
				received().Header("x-client-id", "client1").Header("api-key", key("client1"))),
			allowed(toSpecial.WithHeader("api-key", key("client1")),
				received().Without("x-client-id", "api-key")),
		},
	})
}
