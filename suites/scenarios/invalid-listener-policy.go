package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	onAdmin := anything.On(scenario.DefaultGateway, adminPort)
	Catalog.Register(scenario.Scenario{
		ShortName: "InvalidListenerPolicy",
		Description: "An invalid policy on one listener makes that listener's routes answer 500 (kgateway: its virtual " +
			"hosts are replaced and the listener says Accepted=False ListenerReplaced); the Gateway's other listener keeps serving.",
		Features:  []features.Name{features.FailClosed, features.ListenerLevel},
		Manifests: []string{baseBackend, gatewayTwoListener, baseRoute, "policy.yaml"},
		Steps: []scenario.Step{
			replaced(onAdmin),
			kgatewayReplaced(onAdmin),
			allowed(anything, received()),
			kgatewayStatus(
				scenario.ExpectListener("gw", "admin", scenario.Condition{Type: "Accepted", Status: "False", Reason: "ListenerReplaced",
					MessageContains: []string{"absent-keys"}}),
				scenario.ExpectListener("gw", "http", accepted)),
			scenario.ExpectPolicy("apikey-auth", policyInvalid),
		},
	})
}
