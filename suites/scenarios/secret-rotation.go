package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "SecretRotation",
		Description: "Editing a Secret's value rotates the key on live traffic: the old key is refused, the new one accepted.",
		Features:    []features.Name{features.SecretRotation},
		Keys:        []string{"old", "new"},
		Manifests:   withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("old")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("new"))),
			scenario.Apply("secret-rotated.yaml"),
			denied(anything.WithHeader("api-key", key("old"))),
			allowed(anything.WithHeader("api-key", key("new")), received().Without("api-key")),
		},
	})
}
