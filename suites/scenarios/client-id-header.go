package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "ClientIDHeader",
		Description: "The seed's clientIdHeader: the backend receives x-client-id set to the name of the Secret entry holding the key.",
		Features:    []features.Name{features.ClientIDHeader},
		Keys:        []string{"client1", "client2"},
		Manifests:   withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("client1")),
				received().Header("x-client-id", "client1").Without("api-key")),
			allowed(anything.WithHeader("api-key", key("client2")),
				received().Header("x-client-id", "client2").Without("api-key")),
			denied(anything),
		},
	})
}
