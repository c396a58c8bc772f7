package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "BearerPrefix",
		Description: "A key is accepted with and without the `Bearer ` prefix, as in the seed's `api-key: Bearer <key>`.",
		Features:    []features.Name{features.APIKeyAuth},
		Keys:        []string{"client1"},
		Manifests:   withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", "Bearer "+key("client1")), received().Without("api-key")),
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
		},
	})
}
