package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "CrossNamespaceSecretRef",
		Description: "A secretRef into another namespace fails closed until that namespace grants it with a ReferenceGrant; " +
			"with the grant the keys work; deleting the grant fails closed again.",
		Features:   []features.Name{features.ReferenceGrant, features.FailClosed},
		Namespaces: []string{"secrets"},
		Keys:       []string{"client1"},
		Manifests:  withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			replaced(anything.WithHeader("api-key", key("client1"))),
			kgatewayReplaced(anything.WithHeader("api-key", key("client1"))),
			scenario.ExpectPolicy("apikey-auth", policyInvalid),
			scenario.Apply("grant.yaml"),
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			denied(anything),
			scenario.ExpectPolicy("apikey-auth", policyAccepted),
			scenario.Delete("grant.yaml"),
			replaced(anything.WithHeader("api-key", key("client1"))),
			scenario.ExpectPolicy("apikey-auth", policyInvalid),
		},
	})
}
