package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	Catalog.Register(harness.Scenario{
		ShortName: "CrossNamespaceSecretRef",
		Description: "A secretRef into another namespace fails closed until that namespace grants it with a ReferenceGrant; " +
			"with the grant the keys work; deleting the grant fails closed again.",
		Features:   []features.Name{features.ReferenceGrant, features.FailClosed},
		Namespaces: []string{"secrets"},
		Keys:       []string{"client1"},
		Manifests:  withBase("secret.yaml", "policy.yaml"),
		Steps: []harness.Step{
			replaced(anything.WithHeader("api-key", key("client1"))),
			kgatewayReplaced(anything.WithHeader("api-key", key("client1"))),
			harness.ExpectPolicy("apikey-auth", policyInvalid),
			harness.Apply("grant.yaml"),
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			denied(anything),
			harness.ExpectPolicy("apikey-auth", policyAccepted),
			harness.Delete("grant.yaml"),
			replaced(anything.WithHeader("api-key", key("client1"))),
			harness.ExpectPolicy("apikey-auth", policyInvalid),
		},
	})
}
