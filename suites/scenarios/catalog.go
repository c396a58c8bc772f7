// Package scenarios is the catalog of API key auth conformance scenarios.
// Each scenario is one .go file registering itself from init, paired with
// the manifest folder of the same name under fixtures/scenarios.
package scenarios

import (
	"io/fs"

	fixtures "github.com/keyconform/keyconform/fixtures/scenarios"
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

// Catalog holds every scenario.
var Catalog scenario.Registry

// Manifests is the file tree scenario manifest names resolve in.
var Manifests fs.FS = fixtures.FS

// Base manifests: go-httpbin, the scenario's Gateway "gw" (listener "http"
// on 8180) and HTTPRoute "httpbin" for the run's www host.
const (
	baseBackend = "base/backend.yaml"
	baseGateway = "base/gateway.yaml"
	baseRoute   = "base/route.yaml"
)

// withBase lists the base manifests, then the scenario's own files.
func withBase(files ...string) []string {
	return append([]string{baseBackend, baseGateway, baseRoute}, files...)
}

// key is the template of the named key's value.
func key(name string) string {
	return `{{key "` + name + `"}}`
}

// anything is the default request: GET /anything for the run's www host on
// the scenario's Gateway.
var anything = scenario.Get("/anything")

// denied expects the api_key_auth 401 for req.
func denied(req scenario.Request) scenario.Step {
	return scenario.Expect(req, scenario.Unauthorized)
}

// replaced expects the 500 of a route whose policy is broken, whatever
// its body: any implementation fails closed so.
func replaced(req scenario.Request) scenario.Step {
	return scenario.Expect(req, scenario.FailedClosed)
}

// kgatewayReplaced expects, when the run claims kgateway's replacement,
// its exact 500: "invalid route configuration detected and replaced with
// a direct response.".
func kgatewayReplaced(req scenario.Request) scenario.Step {
	return scenario.Only(features.KgatewayReplacement, scenario.Expect(req, scenario.InvalidRoute))
}

// kgatewayStatus runs status checks only kgateway's wording satisfies.
func kgatewayStatus(steps ...scenario.Step) scenario.Step {
	return scenario.Only(features.KgatewayStatus, steps...)
}

// allowed expects req to reach the backend, which received what b says.
func allowed(req scenario.Request, b scenario.Backend) scenario.Step {
	return scenario.Expect(req, scenario.Reached(b))
}

// received starts a backend expectation.
func received() scenario.Backend { return scenario.Backend{} }

// The conditions fail-closed scenarios expect (kgateway's policy, route,
// listener and Gateway statuses).
var (
	policyAccepted   = scenario.Condition{Type: "Accepted", Status: "True"}
	policyInvalid    = scenario.Condition{Type: "Accepted", Status: "False", Reason: "Invalid"}
	routeReplaced    = scenario.Condition{Type: "Accepted", Status: "False", Reason: "RouteRuleReplaced"}
	routeAccepted    = scenario.Condition{Type: "Accepted", Status: "True"}
	listenerReplaced = scenario.Condition{Type: "Accepted", Status: "False", Reason: "ListenerReplaced"}
	gatewayReplaced  = scenario.Condition{Type: "Accepted", Status: "False", Reason: "GatewayReplaced"}
	accepted         = scenario.Condition{Type: "Accepted", Status: "True"}
)

// Manifests and requests of scenarios with two routes or rules.
const (
	routesByHost       = "base/routes-by-host.yaml"
	routeRules         = "base/route-rules.yaml"
	gatewayTwoListener = "base/gateway-two-listeners.yaml"
	adminPort          = 8181
)

var (
	// toSpecial and toOther reach HTTPRoutes special and other of routesByHost.
	toSpecial = anything.WithHost(`{{host "special"}}`)
	toOther   = anything.WithHost(`{{host "other"}}`)
	// toSpecialRule and toOtherRule reach rules special and other of routeRules.
	toSpecialRule = scenario.Get("/anything/special")
	toOtherRule   = scenario.Get("/anything/other")
)
