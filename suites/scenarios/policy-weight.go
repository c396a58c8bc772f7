package scenarios

import (
	"time"

	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	heavy := harness.Ref{Kind: harness.PolicyKind, Name: "a-heavy"}
	Catalog.Register(harness.Scenario{
		ShortName: "PolicyWeight",
		Description: "Of two policies on the same HTTPRoute the one with the higher kgateway.dev/policy-weight wins, " +
			"however young; at a lower weight the older wins again, and a weight that is not an integer makes the " +
			"policy invalid, so the route answers 500.",
		Features:  []features.Name{features.RouteLevel, features.PolicyConflict, features.PolicyWeight},
		Keys:      []string{"older", "heavy"},
		Manifests: withBase("secrets.yaml", "policy-older.yaml"),
		Steps: []harness.Step{
			allowed(anything.WithHeader("api-key", key("older")), received().Without("api-key")),
			// Without the pause both policies could share a creationTimestamp
			// second, and a tie at equal weight would go by name.
			harness.Pause(1100*time.Millisecond, "so the heavier policy is created in a later second"),
			harness.Apply("policy-heavy.yaml"),
			allowed(anything.WithHeader("api-key", key("heavy")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("older"))),
			kgatewayStatus(harness.ExpectPolicy("z-older", harness.Condition{Type: "Attached", Status: "False", Reason: "Overridden"})),
			harness.Patch(heavy, `metadata: {annotations: {kgateway.dev/policy-weight: "-1"}}`),
			allowed(anything.WithHeader("api-key", key("older")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("heavy"))),
			harness.Patch(heavy, `metadata: {annotations: {kgateway.dev/policy-weight: "high"}}`),
			replaced(anything.WithHeader("api-key", key("older"))),
			harness.ExpectPolicy("a-heavy", policyInvalid),
			kgatewayStatus(harness.ExpectPolicy("a-heavy", harness.Condition{Type: "Accepted", Status: "False", Reason: "Invalid",
				MessageContains: []string{"kgateway.dev/policy-weight"}})),
		},
	})
}
