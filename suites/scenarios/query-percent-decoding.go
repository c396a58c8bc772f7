package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "QueryPercentDecoding",
		Description: "A query key is percent-decoded before it is compared: a key with '/', '=', '&', '+', '%' and a space, " +
			"sent fully percent-encoded, is accepted and removed with the other parameters kept.",
		Features:    []features.Name{features.QuerySource},
		LiteralKeys: map[string]string{"special": "k/ey=1&2+3%4 five"},
		Manifests:   withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(scenario.Get(`/anything?foo=bar&api_key={{key "special" | pct}}`),
				received().WithoutArgs("api_key").Arg("foo", "bar")),
			denied(scenario.Get(`/anything?api_key={{key "special" | chop | pct}}`)),
		},
	})
}
