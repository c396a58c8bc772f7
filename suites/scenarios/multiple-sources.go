package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "MultipleSources",
		Description: "The seed's multiple key sources (header X-API-KEY, query api_key, cookie auth_token): a key in any " +
			"one of them is accepted and removed; none is refused.",
		Features:  []features.Name{features.HeaderSource, features.QuerySource, features.CookieSource},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("X-API-KEY", key("client1")), received().Without("X-API-KEY")),
			allowed(scenario.Get("/anything?api_key="+key("client1")), received().WithoutArgs("api_key")),
			allowed(anything.WithCookie("auth_token="+key("client1")), received().Without("Cookie")),
			denied(anything),
		},
	})
}
