package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	onAdmin := anything.On(harness.DefaultGateway, adminPort)
	Catalog.Register(harness.Scenario{
		ShortName: "InvalidListenerPolicy",
		Description: "An invalid policy on one listener makes that listener's routes answer 500 (kgateway: its virtual " +
			"hosts are replaced and the listener says Accepted=False ListenerReplaced); the Gateway's other listener keeps serving.",
		Features:  []features.Name{features.FailClosed, features.ListenerLevel},
		Manifests: []string{baseBackend, gatewayTwoListener, baseRoute, "policy.yaml"},
		Steps: []harness.Step{
			replaced(onAdmin),
			kgatewayReplaced(onAdmin),
			allowed(anything, received()),
			kgatewayStatus(
				harness.ExpectListener("gw", "admin", harness.Condition{Type: "Accepted", Status: "False", Reason: "ListenerReplaced",
					MessageContains: []string{"absent-keys"}}),
				harness.ExpectListener("gw", "http", accepted)),
			harness.ExpectPolicy("apikey-auth", policyInvalid),
		},
	})
}
