package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "EmptySecretSelector",
		Description: "secretSelector with matchLabels {} reads the keys of every labelled Secret and never those of an " +
			"unlabelled one, until it gets a label.",
		Features:  []features.Name{features.LabelSelector},
		Keys:      []string{"labelled", "unlabelled"},
		Manifests: withBase("secrets.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("labelled")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("unlabelled"))),
			scenario.Patch(scenario.Ref{Kind: scenario.SecretKind, Name: "unlabelled-keys"}, `metadata: {labels: {team: b}}`),
			allowed(anything.WithHeader("api-key", key("unlabelled")), received().Without("api-key")),
		},
	})
}
