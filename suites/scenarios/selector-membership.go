package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

// candidate is the Secret whose labels the scenario changes.
var candidate = scenario.Ref{Kind: scenario.SecretKind, Name: "candidate"}

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "SelectorMembership",
		Description: "Selector membership follows labels live: a Secret's keys are accepted once it gets the label, " +
			"refused again once the label is removed or changes value.",
		Features:  []features.Name{features.LabelSelector, features.SecretRotation},
		Keys:      []string{"member", "candidate"},
		Manifests: withBase("secrets.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("member")), received().Without("api-key")),
			denied(anything.WithHeader("api-key", key("candidate"))),
			scenario.Patch(candidate, `metadata: {labels: {app: httpbin}}`),
			allowed(anything.WithHeader("api-key", key("candidate")), received().Without("api-key")),
			scenario.Patch(candidate, `metadata: {labels: {app: null}}`),
			denied(anything.WithHeader("api-key", key("candidate"))),
			scenario.Patch(candidate, `metadata: {labels: {app: httpbin}}`),
			allowed(anything.WithHeader("api-key", key("candidate")), received().Without("api-key")),
			scenario.Patch(candidate, `metadata: {labels: {app: billing}}`),
			denied(anything.WithHeader("api-key", key("candidate"))),
			allowed(anything.WithHeader("api-key", key("member")), received().Without("api-key")),
		},
	})
}
