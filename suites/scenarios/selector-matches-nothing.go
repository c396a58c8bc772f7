package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	Catalog.Register(harness.Scenario{
		ShortName: "SelectorMatchesNothing",
		Description: "A selector matching no Secret fails closed (500, Accepted=False) rather than open; labelling a Secret " +
			"to match brings API key auth up.",
		Features:  []features.Name{features.FailClosed, features.LabelSelector},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []harness.Step{
			replaced(anything),
			kgatewayReplaced(anything),
			harness.ExpectPolicy("apikey-auth", policyInvalid),
			harness.Patch(harness.Ref{Kind: harness.SecretKind, Name: "api-keys"}, `metadata: {labels: {app: httpbin}}`),
			denied(anything),
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			harness.ExpectPolicy("apikey-auth", policyAccepted),
		},
	})
}
