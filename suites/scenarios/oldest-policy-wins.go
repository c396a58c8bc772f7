package scenarios

import (
	"time"

	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "OldestPolicyWins",
		Description: "Of two policies on the same HTTPRoute the older one (creationTimestamp) wins, even when its name sorts " +
			"last; once it is deleted the other takes over.",
		Features:  []features.Name{features.RouteLevel, features.PolicyConflict},
		Keys:      []string{"older", "newer"},
		Manifests: withBase("secrets.yaml", "policy-older.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("older")), received().Without("api-key")),
			// creationTimestamp has one-second resolution: without the pause
			// both policies could share a timestamp and the name decide.
			scenario.Pause(1100*time.Millisecond, "so the second policy is created in a later second"),
			scenario.Apply("policy-newer.yaml"),
			// The newer policy must never take effect: wait until the
			// implementation has processed it (whatever it says about it)
			// before trusting that the older one still holds.
			scenario.ExpectPolicy("a-newer", scenario.Condition{Type: "Accepted"}),
			allowed(anything.WithHeader("api-key", key("older")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("newer"))),
			scenario.Delete("policy-older.yaml"),
			allowed(anything.WithHeader("api-key", key("newer")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("older"))),
		},
	})
}
