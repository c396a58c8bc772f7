package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	onAdmin := anything.On(harness.DefaultGateway, adminPort)
	Catalog.Register(harness.Scenario{
		ShortName: "InvalidListenerPolicy",
		Description: "An invalid policy on one listener replaces that listener's virtual hosts with the 500 direct response " +
			"and marks the listener Accepted=False ListenerReplaced; the Gateway's other listener keeps serving.",
		Features:  []features.Name{features.FailClosed, features.ListenerLevel},
		Manifests: []string{baseBackend, gatewayTwoListener, baseRoute, "policy.yaml"},
		Steps: []harness.Step{
			replaced(onAdmin),
			allowed(anything, received()),
			harness.ExpectListener("gw", "admin", harness.Condition{Type: "Accepted", Status: "False", Reason: "ListenerReplaced",
				MessageContains: []string{"absent-keys"}}),
			harness.ExpectListener("gw", "http", accepted),
			harness.ExpectPolicy("apikey-auth", policyInvalid),
		},
	})
}
