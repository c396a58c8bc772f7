package scenarios

import (
	"time"

	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	// go-httpbin's /delay/3 answers after 3 s: a 401 within 1 s was decided
	// without asking the backend. A 401 body alone cannot show that, since
	// an implementation may forward first and answer 401 afterwards.
	slow := scenario.Get("/delay/3")
	deniedAtOnce := func(req scenario.Request) scenario.Step {
		return scenario.Expect(req, scenario.Unauthorized.Before(time.Second))
	}
	Catalog.Register(scenario.Scenario{
		ShortName: "DeniedBeforeBackend",
		Description: "A request without a valid key is answered 401 before the backend is asked: for a path the backend " +
			"answers only after 3 s, the 401 comes within 1 s, without a key, with a wrong one and with a near miss.",
		Features:  []features.Name{features.APIKeyAuth},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			deniedAtOnce(slow),
			deniedAtOnce(slow.WithHeader("api-key", "wrong-"+key("client1"))),
			deniedAtOnce(slow.WithHeader("api-key", "Bearer "+key("client1")+"x")),
		},
	})
}
