package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "SecretEntriesUpdate",
		Description: "Adding an entry to the Secret adds a client, keeping the others; removing an entry revokes that client only.",
		Features:    []features.Name{features.SecretRotation, features.ClientIDHeader},
		Keys:        []string{"client1", "client2"},
		Manifests:   withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("client1")), received().Header("x-client-id", "client1")),
			denied(anything.WithHeader("api-key", key("client2"))),
			scenario.Apply("secret-two-clients.yaml"),
			allowed(anything.WithHeader("api-key", key("client2")), received().Header("x-client-id", "client2")),
			allowed(anything.WithHeader("api-key", key("client1")), received().Header("x-client-id", "client1")),
			scenario.Apply("secret-second-only.yaml"),
			denied(anything.WithHeader("api-key", key("client1"))),
			allowed(anything.WithHeader("api-key", key("client2")), received().Header("x-client-id", "client2")),
		},
	})
}
