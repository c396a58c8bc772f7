package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	toLater := anything.WithHost(`{{host "later"}}`)
	Catalog.Register(scenario.Scenario{
		ShortName: "MissingTarget",
		Description: "A policy whose target does not exist protects nothing else (kgateway reports it on its StatusSummary " +
			"ancestor: Accepted and Attached False, reason TargetNotFound, naming the target); once the route appears " +
			"the policy attaches to it.",
		Features:  []features.Name{features.RouteLevel},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			kgatewayStatus(
				scenario.ExpectPolicy("apikey-auth", scenario.Condition{Type: "Accepted", Status: "False", Reason: "TargetNotFound",
					MessageContains: []string{"HTTPRoute {{.Namespace}}/later not found"}}),
				scenario.ExpectPolicy("apikey-auth", scenario.Condition{Type: "Attached", Status: "False", Reason: "TargetNotFound"})),
			allowed(anything, received()),
			scenario.Apply("route-later.yaml"),
			denied(toLater),
			allowed(toLater.WithHeader("api-key", key("client1")), received().Without("api-key")),
			scenario.ExpectPolicy("apikey-auth", policyAccepted),
		},
	})
}
