package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "CookieSource",
		Description: "With keySources [cookie auth_token] the key is read from the cookie and removed before the backend: " +
			"other cookies are kept and a Cookie header left empty is dropped; no cookie, or the key in a header, is refused.",
		Features:  []features.Name{features.CookieSource},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithCookie("auth_token="+key("client1")), received().Without("Cookie")),
			allowed(anything.WithCookie("session=s1; auth_token="+key("client1")+"; theme=dark"),
				received().WithoutCookies("auth_token").Cookie("session", "s1").Cookie("theme", "dark")),
			denied(anything.WithCookie("session=s1")),
			denied(anything),
			denied(anything.WithHeader("api-key", key("client1"))),
		},
	})
}
