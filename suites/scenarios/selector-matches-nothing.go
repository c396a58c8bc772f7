package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "SelectorMatchesNothing",
		Description: "A selector matching no Secret fails closed (500, Accepted=False) rather than open; labelling a Secret " +
			"to match brings API key auth up.",
		Features:  []features.Name{features.FailClosed, features.LabelSelector},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			replaced(anything),
			kgatewayReplaced(anything),
			scenario.ExpectPolicy("apikey-auth", policyInvalid),
			scenario.Patch(scenario.Ref{Kind: scenario.SecretKind, Name: "api-keys"}, `metadata: {labels: {app: httpbin}}`),
			denied(anything),
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			scenario.ExpectPolicy("apikey-auth", policyAccepted),
		},
	})
}
