package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	Catalog.Register(harness.Scenario{
		ShortName:   "ListenerLevelPolicy",
		Description: "A policy targeting one Gateway listener by sectionName protects the routes on that listener only.",
		Features:    []features.Name{features.ListenerLevel},
		Keys:        []string{"client1"},
		Manifests:   []string{baseBackend, gatewayTwoListener, baseRoute, "secret.yaml", "policy.yaml"},
		Steps: []harness.Step{
			denied(anything.On(harness.DefaultGateway, adminPort)),
			allowed(anything.On(harness.DefaultGateway, adminPort).WithHeader("api-key", key("client1")), received().Without("api-key")),
			allowed(anything, received().Without("api-key")),
		},
	})
}
