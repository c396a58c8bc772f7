package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "NoUsableKey",
		Description: "A Secret whose entries are all empty holds no key: the policy fails closed. Once one entry has a value, " +
			"that key works and the empty entry is skipped (kgateway; Envoy Gateway refuses the empty entry).",
		Features:  []features.Name{features.FailClosed},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			replaced(anything),
			kgatewayReplaced(anything),
			replaced(anything.WithHeader("api-key", "")),
			scenario.ExpectPolicy("apikey-auth", policyInvalid),
			// client2 stays empty: kgateway skips it, so client1's key works.
			scenario.Only(features.EmptyKeysSkipped,
				scenario.Apply("secret-filled.yaml"),
				denied(anything.WithHeader("api-key", "")),
				allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
				scenario.ExpectPolicy("apikey-auth", policyAccepted)),
		},
	})
}
