package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "CrossNamespaceSelector",
		Description: "A secretSelector matches in the policy's namespace, and in another namespace only once it grants the " +
			"policy with a ReferenceGrant.",
		Features:   []features.Name{features.ReferenceGrant, features.LabelSelector, features.ClientIDHeader},
		Namespaces: []string{"secrets"},
		Keys:       []string{"local", "remote"},
		Manifests:  withBase("secrets.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("local")), received().Header("x-client-id", "local-client")),
			denied(anything.WithHeader("api-key", key("remote"))),
			scenario.Apply("grant.yaml"),
			allowed(anything.WithHeader("api-key", key("remote")), received().Header("x-client-id", "remote-client")),
			allowed(anything.WithHeader("api-key", key("local")), received().Header("x-client-id", "local-client")),
		},
	})
}
