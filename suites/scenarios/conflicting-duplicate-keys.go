package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "ConflictingDuplicateKeys",
		Description: "One key held by two clients makes the policy invalid: its routes answer 500, the policy says " +
			"Accepted=False (with kgateway's wording: naming both clients, never the key; the Gateway GatewayReplaced); fixing the Secret restores service.",
		Features:  []features.Name{features.FailClosed, features.ClientIDHeader},
		Keys:      []string{"shared", "client-b"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			replaced(anything),
			kgatewayReplaced(anything),
			replaced(anything.WithHeader("api-key", key("shared"))),
			scenario.ExpectPolicy("apikey-auth", policyInvalid),
			kgatewayStatus(
				scenario.ExpectPolicy("apikey-auth", scenario.Condition{Type: "Accepted", Status: "False", Reason: "Invalid",
					MessageContains: []string{"client-a", "client-b"}}),
				scenario.ExpectGateway("gw", scenario.Condition{Type: "Accepted", Status: "False", Reason: "GatewayReplaced",
					MessageContains: []string{"client-a", "client-b"}})),
			scenario.Apply("secret-fixed.yaml"),
			allowed(anything.WithHeader("api-key", key("shared")), received().Header("x-client-id", "client-a")),
			allowed(anything.WithHeader("api-key", key("client-b")), received().Header("x-client-id", "client-b")),
			scenario.ExpectPolicy("apikey-auth", policyAccepted),
			kgatewayStatus(scenario.ExpectGateway("gw", accepted)),
		},
	})
}
