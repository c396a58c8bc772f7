package dataplane_test

import (
	"net/http"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/internal/xdstest"
	"github.com/keyconform/keyconform/sim/apikeyauth"
)

var (
	creds     = []*apikeyv3.Credential{{Key: "key1", Client: "user1"}, {Key: "key2", Client: "user2"}}
	hdrSrc    = &apikeyv3.KeySource{Header: "Authorization"}
	querySrc  = &apikeyv3.KeySource{Query: "api_key"}
	cookieSrc = &apikeyv3.KeySource{Cookie: "api_key"}
)

// refCase is one of Envoy's api_key_auth tests (its api_key_auth_test.cc),
// replayed through real HTTP: a virtual host of its own carries the
// per-route config, and httpbin's /anything echoes what it received.
type refCase struct {
	name     string
	port     uint32 // 8081: the listener whose filter-level config is set
	perRoute *apikeyv3.ApiKeyAuthPerRoute
	path     string
	method   string
	headers  map[string]string

	wantStatus int
	wantBody   string
	check      func(t *testing.T, got echo)
}

func perRoute(sources []*apikeyv3.KeySource, c []*apikeyv3.Credential) *apikeyv3.ApiKeyAuthPerRoute {
	return &apikeyv3.ApiKeyAuthPerRoute{Credentials: c, KeySources: sources}
}

func with(c *apikeyv3.ApiKeyAuthPerRoute, f func(*apikeyv3.ApiKeyAuthPerRoute)) *apikeyv3.ApiKeyAuthPerRoute {
	f(c)
	return c
}

func src(s ...*apikeyv3.KeySource) []*apikeyv3.KeySource { return s }

func wantHeader(name, want string) func(*testing.T, echo) {
	return func(t *testing.T, got echo) {
		t.Helper()
		if v := got.header(name); v != want {
			t.Errorf("backend received %s = %q, want %q", name, v, want)
		}
	}
}

func wantNoHeader(name string) func(*testing.T, echo) {
	return func(t *testing.T, got echo) {
		t.Helper()
		if _, ok := got.Headers[http.CanonicalHeaderKey(name)]; ok {
			t.Errorf("backend received %s, want it removed", name)
		}
	}
}

func all(checks ...func(*testing.T, echo)) func(*testing.T, echo) {
	return func(t *testing.T, got echo) {
		t.Helper()
		for _, c := range checks {
			c(t, got)
		}
	}
}

const (
	unauthorized = "Client authentication failed."
	forbidden    = "Client is forbidden."
)

var referenceCases = []refCase{
	{name: "NoHeaderApiKey", perRoute: perRoute(src(hdrSrc), creds), wantStatus: 401, wantBody: unauthorized},
	{name: "HeaderApiKey", perRoute: perRoute(src(hdrSrc), creds), headers: map[string]string{"Authorization": "Bearer key1"},
		wantStatus: 200, check: wantHeader("Authorization", "Bearer key1")},
	{name: "NoQueryApiKey", perRoute: perRoute(src(querySrc), creds), wantStatus: 401, wantBody: unauthorized},
	{name: "QueryApiKey", perRoute: perRoute(src(querySrc), creds), path: "/anything?api_key=key1",
		wantStatus: 200, check: func(t *testing.T, got echo) {
			if strings.Join(got.Args["api_key"], ",") != "key1" {
				t.Errorf("backend args %v", got.Args)
			}
		}},
	{name: "NoCookieApiKey", perRoute: perRoute(src(cookieSrc), creds), wantStatus: 401, wantBody: unauthorized},
	{name: "CookieApiKey", perRoute: perRoute(src(cookieSrc), creds), headers: map[string]string{"Cookie": "api_key=key1"},
		wantStatus: 200, check: wantHeader("Cookie", "api_key=key1")},
	{name: "FallbackToQueryApiKey", perRoute: perRoute(src(hdrSrc, querySrc), creds), path: "/anything?api_key=key1", wantStatus: 200},
	{name: "FallbackToCookieApiKey", perRoute: perRoute(src(hdrSrc, querySrc, cookieSrc), creds),
		headers: map[string]string{"Cookie": "api_key=key1"}, wantStatus: 200},
	{name: "OrderOfKeySources/wrong header, right query", perRoute: perRoute(src(hdrSrc, querySrc, cookieSrc), creds),
		path: "/anything?api_key=key1", headers: map[string]string{"Authorization": "Bearer wrong"}, wantStatus: 401, wantBody: unauthorized},
	{name: "OrderOfKeySources/wrong query, right cookie", perRoute: perRoute(src(hdrSrc, querySrc, cookieSrc), creds),
		path: "/anything?api_key=wrong", headers: map[string]string{"Cookie": "api_key=key1"}, wantStatus: 401, wantBody: unauthorized},
	{name: "UnknownApiKey", perRoute: perRoute(src(hdrSrc), creds), headers: map[string]string{"Authorization": "Bearer key3"},
		wantStatus: 401, wantBody: unauthorized},
	{name: "NoCredentials", perRoute: perRoute(src(hdrSrc), nil), headers: map[string]string{"Authorization": "Bearer key1"},
		wantStatus: 401, wantBody: unauthorized},
	{name: "NoKeySource", perRoute: perRoute(nil, creds), headers: map[string]string{"Authorization": "Bearer key1"},
		wantStatus: 401, wantBody: unauthorized},
	{name: "KnownApiKeyButNotAllowed", perRoute: with(perRoute(src(hdrSrc), creds), func(c *apikeyv3.ApiKeyAuthPerRoute) {
		c.AllowedClients = []string{"user2"}
	}), headers: map[string]string{"Authorization": "Bearer key1"}, wantStatus: 403, wantBody: forbidden},
	{name: "HeaderApiKeyWithForwarding", perRoute: with(perRoute(src(hdrSrc), creds), func(c *apikeyv3.ApiKeyAuthPerRoute) {
		c.Forwarding = &apikeyv3.Forwarding{Header: "x-client-id"}
	}), headers: map[string]string{"Authorization": "Bearer key1", "X-Client-Id": "spoofed"},
		wantStatus: 200, check: all(wantHeader("X-Client-Id", "user1"), wantHeader("Authorization", "Bearer key1"))},
	{name: "QueryApiKeyWithForwarding", perRoute: with(perRoute(src(querySrc), creds), func(c *apikeyv3.ApiKeyAuthPerRoute) {
		c.Forwarding = &apikeyv3.Forwarding{Header: "x-client-id"}
	}), path: "/anything?api_key=key2", wantStatus: 200, check: wantHeader("X-Client-Id", "user2")},
	{name: "CookieApiKeyWithForwarding", perRoute: with(perRoute(src(cookieSrc), creds), func(c *apikeyv3.ApiKeyAuthPerRoute) {
		c.Forwarding = &apikeyv3.Forwarding{Header: "x-client-id"}
	}), headers: map[string]string{"Cookie": "api_key=key1"}, wantStatus: 200,
		check: all(wantHeader("X-Client-Id", "user1"), wantHeader("Cookie", "api_key=key1"))},
	{name: "HideCredentialsHeader", perRoute: with(perRoute(src(hdrSrc), creds), func(c *apikeyv3.ApiKeyAuthPerRoute) {
		c.Forwarding = &apikeyv3.Forwarding{HideCredentials: true}
	}), headers: map[string]string{"Authorization": "Bearer key1"}, wantStatus: 200, check: wantNoHeader("Authorization")},
	{name: "HideCredentialsQuery", perRoute: with(perRoute(src(querySrc), creds), func(c *apikeyv3.ApiKeyAuthPerRoute) {
		c.Forwarding = &apikeyv3.Forwarding{HideCredentials: true}
	}), path: "/anything?api_key=key1&foo=bar", wantStatus: 200, check: func(t *testing.T, got echo) {
		if !strings.HasSuffix(got.URL, "/anything?foo=bar") || len(got.Args) != 1 {
			t.Errorf("backend url %q args %v, want /anything?foo=bar", got.URL, got.Args)
		}
	}},
	{name: "HideCredentialsCookie", perRoute: with(perRoute(src(cookieSrc), creds), func(c *apikeyv3.ApiKeyAuthPerRoute) {
		c.Forwarding = &apikeyv3.Forwarding{HideCredentials: true}
	}), headers: map[string]string{"Cookie": "api_key=key1; foo=bar"}, wantStatus: 200, check: wantHeader("Cookie", "foo=bar")},
	{name: "HideCredentialsMultipleKeySources", perRoute: with(perRoute(src(hdrSrc, querySrc, cookieSrc), creds), func(c *apikeyv3.ApiKeyAuthPerRoute) {
		c.Forwarding = &apikeyv3.Forwarding{HideCredentials: true}
	}), path: "/anything?api_key=key1&foo=bar", headers: map[string]string{"Authorization": "Bearer key1", "Cookie": "api_key=key1"},
		wantStatus: 200, check: all(wantNoHeader("Authorization"), wantNoHeader("Cookie"), func(t *testing.T, got echo) {
			if !strings.HasSuffix(got.URL, "/anything?foo=bar") {
				t.Errorf("backend url %q", got.URL)
			}
		})},
	{name: "ConnectWithoutPath", perRoute: perRoute(src(querySrc), creds), method: http.MethodConnect, wantStatus: 404},

	// Listener 8081's api_key_auth filter is enabled with its own config:
	// key1/user1 from Authorization, credentials hidden.
	{name: "FilterLevelConfig", port: port2, headers: map[string]string{"Authorization": "Bearer key1"},
		wantStatus: 200, check: wantNoHeader("Authorization")},
	{name: "RouteConfigOverrideCredentials/new key", port: port2, perRoute: perRoute(nil, creds[1:]),
		headers: map[string]string{"Authorization": "Bearer key2"}, wantStatus: 200},
	{name: "RouteConfigOverrideCredentials/old key", port: port2, perRoute: perRoute(nil, creds[1:]),
		headers: map[string]string{"Authorization": "Bearer key1"}, wantStatus: 401, wantBody: unauthorized},
	{name: "RouteConfigOverrideKeySource", port: port2, perRoute: perRoute(src(querySrc), nil),
		path: "/anything?api_key=key1", headers: map[string]string{"Authorization": "Bearer wrong"}, wantStatus: 200},
	{name: "RouteConfigOverrideKeySourceAndCredentials", port: port2, perRoute: perRoute(src(querySrc), creds[1:]),
		path: "/anything?api_key=key2", wantStatus: 200},
	{name: "RouteConfigOverrideForwarding", port: port2, perRoute: with(perRoute(nil, nil), func(c *apikeyv3.ApiKeyAuthPerRoute) {
		c.Forwarding = &apikeyv3.Forwarding{Header: "x-client-id"}
	}), headers: map[string]string{"Authorization": "Bearer key1"},
		check: all(wantHeader("Authorization", "Bearer key1"), wantHeader("X-Client-Id", "user1")), wantStatus: 200},
}

func caseHost(i int) string {
	return "case" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + ".test"
}

func routeWith(t *testing.T, cfg *apikeyv3.ApiKeyAuthPerRoute) *routev3.Route {
	r := xdstest.PrefixRoute("all", "/", clusterName)
	if cfg != nil {
		r.TypedPerFilterConfig = map[string]*anypb.Any{apikeyauth.FilterName: xdstest.Any(t, cfg)}
	}
	return r
}

func referenceResources(t *testing.T) []types.Resource {
	var vh8080, vh8081 []*routev3.VirtualHost
	for i, c := range referenceCases {
		if c.port == port2 {
			vh8081 = append(vh8081, xdstest.VirtualHost(port2, caseHost(i), routeWith(t, c.perRoute)))
		} else {
			vh8080 = append(vh8080, xdstest.VirtualHost(port, caseHost(i), routeWith(t, c.perRoute)))
		}
	}
	filterLevel := xdstest.Listener(t, port2, func(h *hcmv3.HttpConnectionManager) {
		h.HttpFilters[0].Disabled = false
		h.HttpFilters[0].ConfigType = &hcmv3.HttpFilter_TypedConfig{TypedConfig: xdstest.Any(t, &apikeyv3.ApiKeyAuth{
			Credentials: creds[:1], KeySources: src(hdrSrc), Forwarding: &apikeyv3.Forwarding{HideCredentials: true},
		})}
	})
	return append(standard(t, vh8080...), filterLevel, xdstest.RouteConfig(port2, vh8081...))
}

func TestEnvoyReferenceCasesEndToEnd(t *testing.T) {
	e := newEnv(t)
	e.start(t, referenceResources(t)...)
	for i, c := range referenceCases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if path == "" {
				path = "/anything"
			}
			got := e.do(t, request{port: c.port, method: c.method, host: caseHost(i), path: path, headers: c.headers})
			if got.status != c.wantStatus {
				t.Fatalf("status %d, want %d (body %q)", got.status, c.wantStatus, got.body)
			}
			if got.header.Get("Server") != "envoy" {
				t.Errorf("server header %q, want envoy", got.header.Get("Server"))
			}
			if c.wantStatus != 200 {
				if got.body != c.wantBody {
					t.Errorf("body %q, want %q", got.body, c.wantBody)
				}
				if c.wantBody != "" && got.header.Get("Content-Type") != "text/plain" {
					t.Errorf("content-type %q, want text/plain", got.header.Get("Content-Type"))
				}
				if got.header.Get("Www-Authenticate") != "" {
					t.Errorf("unexpected WWW-Authenticate %q", got.header.Get("Www-Authenticate"))
				}
				return
			}
			if c.check != nil {
				c.check(t, got.echoed)
			}
		})
	}
	// Every denial and success above was counted under the HCM's prefix.
	if statValue(e.proxy, "http.http.api_key_auth.unauthorized") == 0 || statValue(e.proxy, "http.http.api_key_auth.forbidden") != 1 ||
		statValue(e.proxy, "http.http.api_key_auth.allowed") == 0 {
		t.Errorf("api_key_auth stats %v", e.proxy.Stats())
	}
}
