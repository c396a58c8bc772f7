package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "LabelSelector",
		Description: "The seed's secretSelector: the keys of every Secret labelled app=httpbin are accepted (a union), " +
			"those of a Secret labelled otherwise are not.",
		Features:  []features.Name{features.LabelSelector},
		Keys:      []string{"team-a", "team-b", "other"},
		Manifests: withBase("secrets.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("team-a")), received().Without("api-key")),
			allowed(anything.WithHeader("api-key", key("team-b")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("other"))),
		},
	})
}
