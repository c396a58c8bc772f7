package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "IdenticalDuplicateKeys",
		Description: "The same client and key in two selected Secrets is one credential, dropped quietly: the key works " +
			"and the policy stays Accepted. A client added while the duplicate exists takes effect, which a data plane " +
			"frozen on stale configuration by a rejected update would not show.",
		Features:  []features.Name{features.LabelSelector, features.ClientIDHeader},
		Keys:      []string{"client1", "client2"},
		Manifests: withBase("secrets.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("client1")), received().Header("x-client-id", "client1")),
			scenario.ExpectPolicy("apikey-auth", policyAccepted),
			scenario.ExpectRoute("httpbin", routeAccepted),
			scenario.Apply("secret-new-client.yaml"),
			allowed(anything.WithHeader("api-key", key("client2")), received().Header("x-client-id", "client2")),
			allowed(anything.WithHeader("api-key", key("client1")), received().Header("x-client-id", "client1")),
		},
	})
}
