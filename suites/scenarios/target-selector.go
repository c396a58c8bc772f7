package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

func init() {
	route := scenario.Ref{Kind: scenario.HTTPRouteKind, Name: "httpbin"}
	Catalog.Register(scenario.Scenario{
		ShortName: "TargetSelector",
		Description: "A policy with targetSelectors instead of targetRefs protects the HTTPRoutes whose labels match, " +
			"from the moment a route gets the label until it loses it.",
		Features:  []features.Name{features.RouteLevel, features.TargetSelector},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything, received()),
			scenario.Patch(route, `metadata: {labels: {tier: public}}`),
			denied(anything),
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			scenario.ExpectPolicy("apikey-auth", policyAccepted),
			scenario.Patch(route, `metadata: {labels: {tier: null}}`),
			allowed(anything, received()),
		},
	})
}
