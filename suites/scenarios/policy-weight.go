package scenarios

import (
	"time"

	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	heavy := scenario.Ref{Kind: scenario.PolicyKind, Name: "a-heavy"}
	Catalog.Register(scenario.Scenario{
		ShortName: "PolicyWeight",
		Description: "Of two policies on the same HTTPRoute the one with the higher kgateway.dev/policy-weight wins, " +
			"however young; at a lower weight the older wins again, and a weight that is not an integer makes the " +
			"policy invalid, so the route answers 500.",
		Features:  []features.Name{features.RouteLevel, features.PolicyConflict, features.PolicyWeight},
		Keys:      []string{"older", "heavy"},
		Manifests: withBase("secrets.yaml", "policy-older.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("older")), received().Without("api-key")),
			// Without the pause both policies could share a creationTimestamp
			// second, and a tie at equal weight would go by name.
			scenario.Pause(1100*time.Millisecond, "so the heavier policy is created in a later second"),
			scenario.Apply("policy-heavy.yaml"),
			allowed(anything.WithHeader("api-key", key("heavy")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("older"))),
			kgatewayStatus(scenario.ExpectPolicy("z-older", scenario.Condition{Type: "Attached", Status: "False", Reason: "Overridden"})),
			scenario.Patch(heavy, `metadata: {annotations: {kgateway.dev/policy-weight: "-1"}}`),
			allowed(anything.WithHeader("api-key", key("older")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("heavy"))),
			scenario.Patch(heavy, `metadata: {annotations: {kgateway.dev/policy-weight: "high"}}`),
			replaced(anything.WithHeader("api-key", key("older"))),
			scenario.ExpectPolicy("a-heavy", policyInvalid),
			kgatewayStatus(scenario.ExpectPolicy("a-heavy", scenario.Condition{Type: "Accepted", Status: "False", Reason: "Invalid",
				MessageContains: []string{"kgateway.dev/policy-weight"}})),
		},
	})
}
