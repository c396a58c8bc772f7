package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "ListenerLevelPolicy",
		Description: "A policy targeting one Gateway listener by sectionName protects the routes on that listener only.",
		Features:    []features.Name{features.ListenerLevel},
		Keys:        []string{"client1"},
		Manifests:   []string{baseBackend, gatewayTwoListener, baseRoute, "secret.yaml", "policy.yaml"},
		Steps: []scenario.Step{
			denied(anything.On(scenario.DefaultGateway, adminPort)),
			allowed(anything.On(scenario.DefaultGateway, adminPort).WithHeader("api-key", key("client1")), received().Without("api-key")),
			allowed(anything, received().Without("api-key")),
		},
	})
}
