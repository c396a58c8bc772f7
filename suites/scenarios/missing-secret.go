package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "MissingSecret",
		Description: "A Gateway policy whose Secret does not exist fails closed: its routes answer 500 and the policy says " +
			"Accepted=False; with kgateway, the whole route configuration answers its 500, unknown hosts included, the " +
			"policy names the Secret and the Gateway says GatewayReplaced. Creating the Secret brings API key auth up.",
		Features:  []features.Name{features.FailClosed},
		Keys:      []string{"client1"},
		Manifests: withBase("policy.yaml"),
		Steps: []scenario.Step{
			replaced(anything),
			kgatewayReplaced(anything),
			replaced(anything.WithHeader("api-key", key("client1"))),
			scenario.ExpectPolicy("apikey-auth", policyInvalid),
			kgatewayReplaced(anything.WithHost(`{{host "unrouted"}}`)),
			kgatewayStatus(
				scenario.ExpectPolicy("apikey-auth", scenario.Condition{Type: "Accepted", Status: "False", Reason: "Invalid",
					MessageContains: []string{"absent-keys"}}),
				scenario.ExpectGateway("gw", scenario.Condition{Type: "Accepted", Status: "False", Reason: "GatewayReplaced",
					MessageContains: []string{"absent-keys"}}),
				scenario.ExpectRoute("httpbin", routeAccepted)),
			scenario.Apply("secret.yaml"),
			denied(anything),
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			scenario.ExpectPolicy("apikey-auth", policyAccepted),
			kgatewayStatus(scenario.ExpectGateway("gw", accepted)),
		},
	})
}
