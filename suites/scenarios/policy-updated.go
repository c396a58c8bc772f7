package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName:   "PolicyUpdated",
		Description: "Editing a live policy's keySources moves the key: the new header is accepted, the old one refused.",
		Features:    []features.Name{features.HeaderSource},
		Keys:        []string{"client1"},
		Manifests:   withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			scenario.Patch(scenario.Ref{Kind: scenario.PolicyKind, Name: "apikey-auth"},
				`spec: {apiKeyAuth: {keySources: [{header: x-api-key}]}}`),
			denied(anything.WithHeader("api-key", key("client1"))),
			allowed(anything.WithHeader("x-api-key", key("client1")), received().Without("x-api-key")),
			scenario.ExpectPolicy("apikey-auth", policyAccepted),
		},
	})
}
