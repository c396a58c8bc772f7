package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "SecretDeleteRecreate",
		Description: "Deleting the referenced Secret fails closed (500, policy Accepted=False), never open; recreating it " +
			"with a new key restores service with the new key only.",
		Features:  []features.Name{features.SecretRotation, features.FailClosed},
		Keys:      []string{"old", "new"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("old")), received().Without("api-key")),
			scenario.Delete("secret.yaml"),
			replaced(anything.WithHeader("api-key", key("old"))),
			kgatewayReplaced(anything.WithHeader("api-key", key("old"))),
			replaced(anything),
			scenario.ExpectPolicy("apikey-auth", policyInvalid),
			scenario.Apply("secret-recreated.yaml"),
			denied(anything.WithHeader("api-key", key("old"))),
			allowed(anything.WithHeader("api-key", key("new")), received().Without("api-key")),
			scenario.ExpectPolicy("apikey-auth", policyAccepted),
		},
	})
}
