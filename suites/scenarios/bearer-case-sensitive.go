package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "BearerCaseSensitive",
		Description: "Only the exact prefix `Bearer ` (capital B, one space) is removed: `bearer `, `BEARER `, two spaces " +
			"or another scheme leave a value that is not the key.",
		Features:  []features.Name{features.APIKeyAuth},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", "Bearer "+key("client1")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", "bearer "+key("client1"))),
			denied(anything.WithHeader("api-key", "BEARER "+key("client1"))),
			denied(anything.WithHeader("api-key", "Bearer  "+key("client1"))),
			denied(anything.WithHeader("api-key", "Basic "+key("client1"))),
		},
	})
}
