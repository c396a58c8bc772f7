package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	Catalog.Register(harness.Scenario{
		ShortName: "MissingSecret",
		Description: "A Gateway policy whose Secret does not exist fails closed: the Gateway's whole route configuration " +
			"answers 500, unknown hosts included, the policy says Accepted=False naming the Secret and the Gateway " +
			"GatewayReplaced; creating the Secret brings API key auth up.",
		Features:  []features.Name{features.FailClosed},
		Keys:      []string{"client1"},
		Manifests: withBase("policy.yaml"),
		Steps: []harness.Step{
			replaced(anything),
			replaced(anything.WithHeader("api-key", key("client1"))),
			harness.ExpectPolicy("apikey-auth", harness.Condition{Type: "Accepted", Status: "False", Reason: "Invalid",
				MessageContains: []string{"absent-keys"}}),
			replaced(anything.WithHost("unrouted.example.com")),
			harness.ExpectGateway("gw", harness.Condition{Type: "Accepted", Status: "False", Reason: "GatewayReplaced",
				MessageContains: []string{"absent-keys"}}),
			harness.ExpectRoute("httpbin", routeAccepted),
			harness.Apply("secret.yaml"),
			denied(anything),
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			harness.ExpectPolicy("apikey-auth", policyAccepted),
			harness.ExpectGateway("gw", accepted),
		},
	})
}
