package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "CustomHeader",
		Description: "The seed's custom header name: with keySources [X-API-KEY] the key is read there, removed before " +
			"the backend, and no longer accepted in the default api-key header.",
		Features:  []features.Name{features.APIKeyAuth, features.HeaderSource},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("X-API-KEY", key("client1")), received().Without("X-API-KEY")),
			denied(anything.WithHeader("api-key", key("client1"))),
			denied(anything),
		},
	})
}
