package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "ForwardCredentialEverySource",
		Description: "With forwardCredential: true the key stays where the client put it, in a header, the query or a cookie, " +
			"exactly as sent.",
		Features:  []features.Name{features.ForwardCredential, features.HeaderSource, features.QuerySource, features.CookieSource},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("X-API-KEY", "Bearer "+key("client1")),
				received().Header("X-API-KEY", "Bearer "+key("client1"))),
			allowed(scenario.Get("/anything?foo=bar&api_key="+key("client1")),
				received().Arg("api_key", key("client1")).Arg("foo", "bar")),
			allowed(anything.WithCookie("session=s1; auth_token="+key("client1")),
				received().Cookie("auth_token", key("client1")).Cookie("session", "s1")),
		},
	})
}
