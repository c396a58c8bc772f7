package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	Catalog.Register(harness.Scenario{
		ShortName: "CrossNamespaceSelector",
		Description: "A secretSelector matches in the policy's namespace, and in another namespace only once it grants the " +
			"policy with a ReferenceGrant.",
		Features:   []features.Name{features.ReferenceGrant, features.LabelSelector, features.ClientIDHeader},
		Namespaces: []string{"secrets"},
		Keys:       []string{"local", "remote"},
		Manifests:  withBase("secrets.yaml", "policy.yaml"),
		Steps: []harness.Step{
			allowed(anything.WithHeader("api-key", key("local")), received().Header("x-client-id", "local-client")),
			denied(anything.WithHeader("api-key", key("remote"))),
			harness.Apply("grant.yaml"),
			allowed(anything.WithHeader("api-key", key("remote")), received().Header("x-client-id", "remote-client")),
			allowed(anything.WithHeader("api-key", key("local")), received().Header("x-client-id", "local-client")),
		},
	})
}
