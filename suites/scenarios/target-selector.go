package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
)

func init() {
	route := harness.Ref{Kind: harness.HTTPRouteKind, Name: "httpbin"}
	Catalog.Register(harness.Scenario{
		ShortName: "TargetSelector",
		Description: "A policy with targetSelectors instead of targetRefs protects the HTTPRoutes whose labels match, " +
			"from the moment a route gets the label until it loses it.",
		Features:  []features.Name{features.RouteLevel, features.TargetSelector},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []harness.Step{
			allowed(anything, received()),
			harness.Patch(route, `metadata: {labels: {tier: public}}`),
			denied(anything),
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			harness.ExpectPolicy("apikey-auth", policyAccepted),
			harness.Patch(route, `metadata: {labels: {tier: null}}`),
			allowed(anything, received()),
		},
	})
}
