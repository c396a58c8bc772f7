package scenarios

import (
	"time"

	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	Catalog.Register(harness.Scenario{
		ShortName: "OldestPolicyWins",
		Description: "Of two policies on the same HTTPRoute the older one (creationTimestamp) wins, even when its name sorts " +
			"last; once it is deleted the other takes over.",
		Features:  []features.Name{features.RouteLevel, features.PolicyConflict},
		Keys:      []string{"older", "newer"},
		Manifests: withBase("secrets.yaml", "policy-older.yaml"),
		Steps: []harness.Step{
			allowed(anything.WithHeader("api-key", key("older")), received().Without("api-key")),
			// creationTimestamp has one-second resolution: without the pause
			// both policies could share a timestamp and the name decide.
			harness.Pause(1100*time.Millisecond, "so the second policy is created in a later second"),
			harness.Apply("policy-newer.yaml"),
			// The newer policy must never take effect: wait until the
			// implementation has processed it (whatever it says about it)
			// before trusting that the older one still holds.
			harness.ExpectPolicy("a-newer", harness.Condition{Type: "Accepted"}),
			allowed(anything.WithHeader("api-key", key("older")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("newer"))),
			harness.Delete("policy-older.yaml"),
			allowed(anything.WithHeader("api-key", key("newer")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("older"))),
		},
	})
}
