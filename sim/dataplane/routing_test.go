package dataplane_test

import (
	"regexp"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/keyconform/keyconform/internal/xdstest"
)

// direct answers with the route's name, to see which route matched.
func direct(name string, match *routev3.RouteMatch) *routev3.Route {
	r := xdstest.DirectResponse(name, "/", 200, name)
	r.Match = match
	return r
}

func prefix(p string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}}
}

func vhost(name string, domains ...string) *routev3.VirtualHost {
	return &routev3.VirtualHost{Name: name, Domains: domains, Routes: []*routev3.Route{xdstest.DirectResponse(name, "/", 200, name)}}
}

func TestVirtualHostSelection(t *testing.T) {
	e := newEnv(t)
	e.start(t, standard(t,
		vhost("exact", "www.example.com"),
		vhost("long-suffix", "*-bar.example.com"),
		vhost("suffix", "*.example.com"),
		vhost("prefix", "api.*"),
		vhost("longer-prefix", "api.internal.*"),
		vhost("default", "*"),
	)...)
	tests := []struct{ host, want string }{
		{"www.example.com", "exact"},
		{"WWW.Example.COM", "exact"},           // case-insensitive
		{"www.example.com:8080", "exact"},      // strip_any_host_port
		{"foo-bar.example.com", "long-suffix"}, // longest suffix first
		{"foo.example.com", "suffix"},
		{".example.com", "default"}, // a wildcard matches at least one character
		{"api.internal.x", "longer-prefix"},
		{"api.x", "prefix"},
		{"foo.example.org", "default"},
	}
	for _, tt := range tests {
		got := e.do(t, request{host: tt.host, path: "/"})
		if got.status != 200 || got.body != tt.want {
			t.Errorf("Host %q -> %d %q, want virtual host %q", tt.host, got.status, got.body, tt.want)
		}
	}
}

func TestRouteOrderAndMatchers(t *testing.T) {
	present := true
	routes := []*routev3.Route{
		direct("exact-path", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/exact"}}),
		direct("separated", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/sep"}}),
		direct("regex", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "/re/[0-9]+"}}}),
		direct("header-exact", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/h"},
			Headers: []*routev3.HeaderMatcher{{Name: "x-version", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
				StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "v2"}}}}}}),
		direct("header-absent", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/h"},
			Headers: []*routev3.HeaderMatcher{{Name: "x-version", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: present}, InvertMatch: true}}}),
		direct("query", &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/q"},
			QueryParameters: []*routev3.QueryParameterMatcher{{Name: "debug", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{
				StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "a b"}}}}}}),
		direct("first-prefix", prefix("/p")),
		direct("second-prefix", prefix("/p/longer")), // never reached: order wins, not length
		xdstest.DirectResponse("invalid-policy", "/broken", 500, "invalid route configuration detected and replaced with a direct response."),
	}
	e := newEnv(t)
	e.start(t, standard(t, xdstest.VirtualHost(port, "www.example.com", routes...))...)
	tests := []struct {
		path    string
		headers map[string]string
		status  int
		want    string
	}{
		{"/exact", nil, 200, "exact-path"},
		{"/exact/more", nil, 404, ""},
		{"/sep", nil, 200, "separated"},
		{"/sep/x", nil, 200, "separated"},
		{"/separate", nil, 404, ""},
		{"/re/42", nil, 200, "regex"},
		{"/re/42x", nil, 404, ""},
		{"/h", map[string]string{"X-Version": "v2"}, 200, "header-exact"},
		{"/h", map[string]string{"X-Version": "v3"}, 404, ""},
		{"/h", nil, 200, "header-absent"},
		{"/q?debug=a%20b", nil, 404, ""}, // route query matching is on the raw query
		{"/q?debug=a%20c", nil, 404, ""},
		{"/p/longer/x", nil, 200, "first-prefix"},
		{"/nothing", nil, 404, ""},
		{"/broken", nil, 500, "invalid route configuration detected and replaced with a direct response."},
	}
	for _, tt := range tests {
		if tt.status == 0 {
			continue
		}
		got := e.do(t, request{host: "www.example.com", path: tt.path, headers: tt.headers})
		if got.status != tt.status || got.body != tt.want {
			t.Errorf("%s %v -> %d %q, want %d %q", tt.path, tt.headers, got.status, got.body, tt.status, tt.want)
		}
		if tt.status == 404 && (got.header.Get("Content-Length") != "0" || got.header.Get("Content-Type") != "") {
			t.Errorf("%s: 404 headers %v, want content-length 0 and no content-type", tt.path, got.header)
		}
		if tt.want != "" && got.header.Get("Content-Type") != "text/plain" {
			t.Errorf("%s: direct response content-type %q", tt.path, got.header.Get("Content-Type"))
		}
	}
	if got := e.do(t, request{host: "unknown.example.org", path: "/exact"}); got.status != 404 || got.body != "" {
		t.Errorf("no virtual host -> %d %q, want 404 with an empty body", got.status, got.body)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestHeadersEnvoyAdds(t *testing.T) {
	e := newEnv(t)
	inner := xdstest.Listener(t, port, func(h *hcmv3.HttpConnectionManager) {
		h.UseRemoteAddress = wrapperspb.Bool(false)
	})
	res := standard(t, xdstest.VirtualHost(port, "www.example.com", xdstest.PrefixRoute("all", "/", clusterName)))
	res[0] = inner
	e.start(t, res...)
	got := e.do(t, request{host: "www.example.com:8080", path: "/anything", headers: map[string]string{
		"X-Envoy-Retry-On":        "5xx", // external requests lose x-envoy-* control headers
		"X-Forwarded-Proto":       "https",
		"X-Request-Id":            "client-chosen",
		"Connection":              "keep-alive, x-hop",
		"X-Hop":                   "1",
		"X-Forwarded-Client-Cert": "forged",
	}})
	if got.status != 200 {
		t.Fatalf("status %d body %q", got.status, got.body)
	}
	b := got.echoed
	checks := []struct{ name, want string }{
		{"Host", "www.example.com"}, // strip_any_host_port
		{"X-Envoy-Expected-Rq-Timeout-Ms", "15000"},
		{"X-Forwarded-Proto", "https"}, // use_remote_address off: kept
		{"X-Request-Id", "client-chosen"},
		{"X-Envoy-Retry-On", ""},
		{"X-Forwarded-Client-Cert", ""},
		{"X-Forwarded-For", ""}, // use_remote_address off: not appended
		{"X-Envoy-External-Address", ""},
	}
	for _, c := range checks {
		if v := b.header(c.name); v != c.want {
			t.Errorf("backend %s = %q, want %q", c.name, v, c.want)
		}
	}
	if _, ok := b.Headers["X-Hop"]; !ok {
		t.Errorf("x-hop (named in Connection) was removed; Envoy forwards it")
	}
	if got.header.Get("Server") != "envoy" || got.header.Get("X-Envoy-Upstream-Service-Time") == "" {
		t.Errorf("response headers %v, want server: envoy and x-envoy-upstream-service-time", got.header)
	}
	if got.header.Get("Date") == "" {
		t.Error("no date header")
	}
}

func TestHeadersEnvoyAddsAtTheEdge(t *testing.T) {
	e := newEnv(t)
	// The translator's listener is an edge one (use_remote_address).
	e.start(t, standard(t, xdstest.VirtualHost(port, "", xdstest.PrefixRoute("all", "/", clusterName)))...)
	got := e.do(t, request{host: "h", path: "/anything", headers: map[string]string{
		"X-Forwarded-Proto": "https", "X-Request-Id": "client-chosen", "X-Forwarded-For": "203.0.113.7",
	}})
	b := got.echoed
	if v := b.header("X-Forwarded-For"); v != "203.0.113.7,127.0.0.1" {
		t.Errorf("x-forwarded-for %q, want the client's value with the (loopback) peer appended", v)
	}
	if v := b.header("X-Forwarded-Proto"); v != "http" {
		t.Errorf("x-forwarded-proto %q, want http (overwritten at the edge)", v)
	}
	if v := b.header("X-Request-Id"); !uuidRE.MatchString(v) {
		t.Errorf("x-request-id %q, want a fresh UUIDv4 (edge requests get a new one)", v)
	}
	if v := b.header("X-Envoy-External-Address"); v != "127.0.0.1" {
		t.Errorf("x-envoy-external-address %q", v)
	}
	got = e.do(t, request{host: "h", path: "/anything"})
	if v := got.echoed.header("X-Forwarded-For"); v != "127.0.0.1" {
		t.Errorf("x-forwarded-for %q without a client value", v)
	}
}

func TestUpgradeWithoutUpgradeConfig(t *testing.T) {
	e := newEnv(t)
	e.start(t, standard(t, xdstest.VirtualHost(port, "www.example.com", xdstest.PrefixRoute("all", "/", clusterName)))...)
	up := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}
	if got := e.do(t, request{host: "www.example.com", path: "/get", headers: up}); got.status != 403 || got.body != "" {
		t.Errorf("websocket upgrade on a route without upgrade config -> %d %q, want 403 (upgrade_failed)", got.status, got.body)
	}
	if got := e.do(t, request{host: "other.example.com", path: "/get", headers: up}); got.status != 404 {
		t.Errorf("upgrade with no route -> %d, want the router's 404", got.status)
	}
}
