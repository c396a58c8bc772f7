package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	Catalog.Register(scenario.Scenario{
		ShortName: "SeedClientIDHeader",
		Description: "With the seed's Secret (one entry named api-key, type extauth.solo.io/apikey) the client id sent " +
			"upstream is the entry name, \"api-key\": the Secret type is not interpreted.",
		Features:  []features.Name{features.ClientIDHeader},
		Keys:      []string{"seed"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", "Bearer "+key("seed")),
				received().Header("x-client-id", "api-key").Without("api-key")),
		},
	})
}
