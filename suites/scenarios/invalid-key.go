package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "InvalidKey",
		Description: "Keys match exactly and case-sensitively: an unknown key, the key upper-cased, " +
			"one character short or one too long are all refused with 401.",
		Features:  []features.Name{features.APIKeyAuth},
		Keys:      []string{"client1", "unknown"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("unknown"))),
			denied(anything.WithHeader("api-key", "Bearer "+key("unknown"))),
			denied(anything.WithHeader("api-key", `{{key "client1" | upper}}`)),
			denied(anything.WithHeader("api-key", `{{key "client1" | chop}}`)),
			denied(anything.WithHeader("api-key", key("client1")+"x")),
		},
	})
}
