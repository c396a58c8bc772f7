package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "PolicyScopedToGateway",
		Description: "A Gateway-level policy applies to its Gateway only: another Gateway of the same namespace stays open.",
		Features:    []features.Name{features.APIKeyAuth},
		Keys:        []string{"client1"},
		Manifests:   withBase("gateway-2.yaml", "secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			denied(anything),
			allowed(anything.On("gw2", scenario.DefaultPort), received().Without("api-key")),
			allowed(anything.On("gw2", scenario.DefaultPort).WithHeader("api-key", key("client1")),
				received().Header("api-key", key("client1"))),
		},
	})
}
