package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	Catalog.Register(harness.Scenario{
		ShortName: "SecretDeleteRecreate",
		Description: "Deleting the referenced Secret fails closed (500, policy Accepted=False), never open; recreating it " +
			"with a new key restores service with the new key only.",
		Features:  []features.Name{features.SecretRotation, features.FailClosed},
		Keys:      []string{"old", "new"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []harness.Step{
			allowed(anything.WithHeader("api-key", key("old")), received().Without("api-key")),
			harness.Delete("secret.yaml"),
			replaced(anything.WithHeader("api-key", key("old"))),
			kgatewayReplaced(anything.WithHeader("api-key", key("old"))),
			replaced(anything),
			harness.ExpectPolicy("apikey-auth", policyInvalid),
			harness.Apply("secret-recreated.yaml"),
			denied(anything.WithHeader("api-key", key("old"))),
			allowed(anything.WithHeader("api-key", key("new")), received().Without("api-key")),
			harness.ExpectPolicy("apikey-auth", policyAccepted),
		},
	})
}
