package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "MissingKey",
		Description: "Without a key in the default source (header api-key) the answer is the filter's 401, whatever else carries the key: " +
			"an empty header, a bare `Bearer`, another header, a query parameter or a cookie.",
		Features:  []features.Name{features.APIKeyAuth},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			denied(anything),
			denied(anything.WithHeader("api-key", "")),
			denied(anything.WithHeader("api-key", "Bearer")),
			denied(anything.WithHeader("x-api-key", key("client1"))),
			denied(anything.WithHeader("Authorization", "Bearer "+key("client1"))),
			denied(scenario.Get("/anything?api-key=" + key("client1"))),
			denied(anything.WithCookie("api-key=" + key("client1"))),
		},
	})
}
