package dataplane_test

import (
	"net/http"
	"testing"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/internal/xdstest"
	"github.com/keyconform/keyconform/sim/apikeyauth"
)

// A route whose action is a direct response still runs the HTTP filters
// before it: Envoy answers direct responses in the router filter
// (Router::Filter::decodeHeaders, source/common/router/router.cc, on
// directResponseEntry), the last in the chain. So a route kgateway replaced
// for its invalid policy, which keeps no per-filter config of its own,
// still authenticates with the RouteConfiguration's config: 401 without
// that key, the 500 with it (docs/spec.md FC-07).
func TestDirectResponseRunsAfterTheFilter(t *testing.T) {
	const body = "invalid route configuration detected and replaced with a direct response."
	rc := xdstest.RouteConfig(port, xdstest.VirtualHost(port, "h",
		xdstest.DirectResponse("replaced", "/", http.StatusInternalServerError, body)))
	rc.TypedPerFilterConfig = map[string]*anypb.Any{
		apikeyauth.FilterName: xdstest.APIKeyAuth(t, map[string]string{"gateway-client": "k-gw"}, false, "", "header:api-key"),
	}
	e := startWith(t, noop, rc)
	tests := []struct {
		name   string
		key    string
		status int
		body   string
	}{
		{"no key", "", http.StatusUnauthorized, apikeyauth.BodyUnauthorized},
		{"unknown key", "k-other", http.StatusUnauthorized, apikeyauth.BodyUnauthorized},
		{"the Gateway's key", "k-gw", http.StatusInternalServerError, body},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request{host: "h", path: "/anything"}
			if tt.key != "" {
				req.headers = map[string]string{"api-key": tt.key}
			}
			got := e.do(t, req)
			if got.status != tt.status || got.body != tt.body {
				t.Fatalf("%d %q, want %d %q", got.status, got.body, tt.status, tt.body)
			}
		})
	}
}
