package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "CrossNamespaceGrantMismatch",
		Description: "ReferenceGrants that do not match (another kind, another namespace) do not allow the reference: " +
			"the policy stays failed closed until a matching grant appears.",
		Features:   []features.Name{features.ReferenceGrant, features.FailClosed},
		Namespaces: []string{"secrets", "elsewhere"},
		Keys:       []string{"client1"},
		Manifests:  withBase("secret.yaml", "policy.yaml", "grants-mismatched.yaml"),
		Steps: []scenario.Step{
			replaced(anything.WithHeader("api-key", key("client1"))),
			kgatewayReplaced(anything.WithHeader("api-key", key("client1"))),
			scenario.ExpectPolicy("apikey-auth", policyInvalid),
			scenario.Apply("grant.yaml"),
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			scenario.ExpectPolicy("apikey-auth", policyAccepted),
		},
	})
}
