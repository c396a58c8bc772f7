package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "ClientIDSpoofing",
		Description: "A client cannot choose its id: an x-client-id it sends, once or twice, is replaced by the id of its key; " +
			"without a key the spoofed header gets it nowhere.",
		Features:  []features.Name{features.ClientIDHeader},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("x-client-id", "admin").WithHeader("api-key", key("client1")),
				received().Header("x-client-id", "client1")),
			allowed(anything.WithHeader("x-client-id", "admin").WithHeader("x-client-id", "root").WithHeader("api-key", key("client1")),
				received().Header("x-client-id", "client1")),
			denied(anything.WithHeader("x-client-id", "client1")),
		},
	})
}
