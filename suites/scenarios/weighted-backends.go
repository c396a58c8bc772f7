package scenarios

import (
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

// splitRequests is how many requests in a row, once the answer is
// consistent, must each get it: with an even split, all of them going to
// the same backend has odds of 2^-19.
const splitRequests = 20

func init() {
	withKey := anything.WithHeader("api-key", key("client1"))
	each := func(req scenario.Request, resp scenario.Response) scenario.Step {
		return scenario.ExpectEach(splitRequests, req, resp)
	}
	Catalog.Register(scenario.Scenario{
		ShortName: "WeightedBackends",
		Description: "A policy on an HTTPRoute whose rule splits traffic evenly between two backends protects every request, " +
			"whichever backend it goes to: without a valid key each one gets 401, with the key each one reaches a backend, " +
			"which never sees the key.",
		Features:  []features.Name{features.RouteLevel},
		Keys:      []string{"client1", "unknown"},
		Manifests: []string{baseBackend, "backend-b.yaml", baseGateway, "route.yaml", "secret.yaml", "policy.yaml"},
		Steps: []scenario.Step{
			each(withKey, scenario.Reached(received().Without("api-key"))),
			each(anything, scenario.Unauthorized),
			each(anything.WithHeader("api-key", key("unknown")), scenario.Unauthorized),
			each(scenario.Get("/anything/other").WithHeader("api-key", "Bearer "+key("client1")),
				scenario.Reached(received().Without("api-key"))),
		},
	})
}
