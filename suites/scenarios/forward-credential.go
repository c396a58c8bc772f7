package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "ForwardCredential",
		Description: "The seed's forwardCredential: true: the backend receives the api-key header exactly as sent, prefix included.",
		Features:    []features.Name{features.ForwardCredential},
		Keys:        []string{"client1"},
		Manifests:   withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("client1")), received().Header("api-key", key("client1"))),
			allowed(anything.WithHeader("api-key", "Bearer "+key("client1")),
				received().Header("api-key", "Bearer "+key("client1"))),
			denied(anything),
		},
	})
}
