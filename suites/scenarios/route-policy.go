package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "RouteLevelPolicy",
		Description: "A policy targeting one HTTPRoute protects that route only; another route of the same Gateway stays open " +
			"and its requests, key header included, reach the backend untouched.",
		Features:  []features.Name{features.RouteLevel},
		Keys:      []string{"client1"},
		Manifests: []string{baseBackend, baseGateway, routesByHost, "secret.yaml", "policy.yaml"},
		Steps: []scenario.Step{
			denied(toSpecial),
			allowed(toSpecial.WithHeader("api-key", key("client1")), received().Without("api-key")),
			allowed(toOther, received().Without("api-key")),
			allowed(toOther.WithHeader("api-key", key("client1")), received().Header("api-key", key("client1"))),
		},
	})
}
