package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "HideCredential",
		Description: "forwardCredential: false, written out, behaves as the default: the key header never reaches the backend.",
		Features:    []features.Name{features.APIKeyAuth, features.ForwardCredential},
		Keys:        []string{"client1"},
		Manifests:   withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			allowed(anything.WithHeader("api-key", "Bearer "+key("client1")).WithHeader("x-other", "kept"),
				received().Without("api-key").Header("x-other", "kept")),
		},
	})
}
