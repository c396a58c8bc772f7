package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "MultipleKeysPerSecret",
		Description: "Every entry of one Secret is a credential of its own: each key is accepted and identified by its entry name.",
		Features:    []features.Name{features.APIKeyAuth, features.ClientIDHeader},
		Keys:        []string{"alice", "bob", "carol"},
		Manifests:   withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("alice")), received().Header("x-client-id", "alice")),
			allowed(anything.WithHeader("api-key", key("bob")), received().Header("x-client-id", "bob")),
			allowed(anything.WithHeader("api-key", key("carol")), received().Header("x-client-id", "carol")),
		},
	})
}
