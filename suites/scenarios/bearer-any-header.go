package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "BearerOnAnyHeader",
		Description: "The `Bearer ` prefix is removed from any header source, not only Authorization.",
		Features:    []features.Name{features.HeaderSource},
		Keys:        []string{"client1"},
		Manifests:   withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("x-api-key", "Bearer "+key("client1")), received().Without("x-api-key")),
			allowed(anything.WithHeader("x-api-key", key("client1")), received().Without("x-api-key")),
			denied(anything.WithHeader("x-api-key", "bearer "+key("client1"))),
		},
	})
}
