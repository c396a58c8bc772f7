package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "PolicyDeleted",
		Description: "Deleting the policy opens the routes again (requests pass untouched), and recreating it closes them; " +
			"the seed's cleanup, both ways.",
		Features:  []features.Name{features.APIKeyAuth},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			denied(anything),
			scenario.Delete("policy.yaml"),
			allowed(anything, received().Without("api-key")),
			allowed(anything.WithHeader("api-key", key("client1")), received().Header("api-key", key("client1"))),
			scenario.Apply("policy.yaml"),
			denied(anything),
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
		},
	})
}
