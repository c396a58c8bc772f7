package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "NoFallThrough",
		Description: "Sources are tried in order and the first non-empty value decides: a wrong key in an earlier source " +
			"is refused even with a valid key in a later one, while an empty earlier value lets the next source decide.",
		Features:  []features.Name{features.HeaderSource, features.QuerySource, features.CookieSource},
		Keys:      []string{"client1", "client2", "unknown"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			denied(scenario.Get("/anything?api_key="+key("client1")).WithHeader("X-API-KEY", key("unknown"))),
			denied(scenario.Get("/anything?api_key=" + key("unknown")).WithCookie("auth_token=" + key("client1"))),
			denied(anything.WithHeader("X-API-KEY", key("unknown")).WithCookie("auth_token=" + key("client1"))),
			allowed(scenario.Get("/anything?api_key="+key("client1")).WithHeader("X-API-KEY", ""),
				received().WithoutArgs("api_key").Without("X-API-KEY")),
			allowed(scenario.Get("/anything?api_key="+key("unknown")).WithHeader("X-API-KEY", key("client2")),
				received().WithoutArgs("api_key").Without("X-API-KEY")),
		},
	})
}
