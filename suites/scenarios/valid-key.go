package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "ValidKey",
		Description: "Every key of the Secret is accepted in header api-key; the backend gets the request without the key " +
			"and with everything else (other headers, query) untouched.",
		Features:  []features.Name{features.APIKeyAuth},
		Keys:      []string{"client1", "client2"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("client1")).WithHeader("x-request-note", "hello"),
				received().Without("api-key").Header("x-request-note", "hello")),
			allowed(anything.WithHeader("api-key", key("client2")), received().Without("api-key")),
			allowed(scenario.Get("/anything?page=2").WithHeader("api-key", key("client1")),
				received().Without("api-key").Arg("page", "2")),
		},
	})
}
