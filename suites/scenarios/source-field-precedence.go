package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "SourceFieldPrecedence",
		Description: "A key source with both header and query set reads the header only (header over query over cookie " +
			"within one source): the key in the query alone is refused.",
		Features:  []features.Name{features.HeaderSource, features.QuerySource},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("x-api-key", key("client1")), received().Without("x-api-key")),
			denied(scenario.Get("/anything?api_key=" + key("client1"))),
		},
	})
}
