package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "HideCredentialEverySource",
		Description: "Once a request is authenticated, every configured source is removed before the backend, whichever " +
			"held the key: header dropped, query parameter removed with others kept, cookie removed with others kept.",
		Features:  []features.Name{features.HeaderSource, features.QuerySource, features.CookieSource},
		Keys:      []string{"client1", "unknown"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(scenario.Get("/anything?api_key="+key("unknown")+"&foo=bar").
				WithHeader("X-API-KEY", key("client1")).
				WithCookie("auth_token="+key("unknown")+"; session=s1"),
				received().Without("X-API-KEY").WithoutArgs("api_key").Arg("foo", "bar").
					WithoutCookies("auth_token").Cookie("session", "s1")),
			allowed(scenario.Get("/anything?foo=bar&api_key="+key("client1")).
				WithCookie("session=s1; auth_token="+key("client1")),
				received().Without("X-API-KEY").WithoutArgs("api_key").Arg("foo", "bar").
					WithoutCookies("auth_token").Cookie("session", "s1")),
		},
	})
}
