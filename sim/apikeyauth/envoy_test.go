package apikeyauth

import (
	"net/http"
	"testing"
)

// Configs shared by Envoy's tests (test/extensions/filters/http/api_key_auth/
// api_key_auth_test.cc), written as the JSON form of their YAML.
const (
	key1Header    = `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"}]}`
	key1Query     = `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"query":"api_key"}]}`
	key1Cookie    = `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"cookie":"api_key"}]}`
	key1AllThree  = `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"},{"query":"api_key"},{"cookie":"api_key"}]}`
	bearerKey1    = "Authorization: Bearer key1"
	cookieKey1    = "Cookie: api_key=key1"
	forwardClient = `"forwarding":{"header":"x-client-id","hide_credentials":false}`
	hideForward   = `"forwarding":{"header":"x-client-id","hide_credentials":true}`
)

// TestEnvoyFilterTests replays every FilterTest of Envoy's
// api_key_auth_test.cc under the same name, with the counters it asserts.
func TestEnvoyFilterTests(t *testing.T) {
	runCases(t, []filterCase{
		{
			name:   "NoHeaderApiKey",
			filter: key1Header,
			steps:  []step{{req: request{line: "GET /"}, want: missingAPIKey}},
			counts: counts(0, 1, 0),
		},
		{
			name:   "HeaderApiKey",
			filter: key1Header,
			steps:  []step{{req: request{line: "GET /", headers: []string{bearerKey1}}, want: allowed("user1")}},
			counts: counts(1, 0, 0),
		},
		{
			name:   "NoQueryApiKey",
			filter: key1Query,
			steps:  []step{{req: request{line: "GET /path"}, want: missingAPIKey}},
			counts: counts(0, 1, 0),
		},
		{
			name:   "QueryApiKey",
			filter: key1Query,
			steps:  []step{{req: request{line: "GET /path?api_key=key1"}, want: allowed("user1")}},
			counts: counts(1, 0, 0),
		},
		{
			name:   "NoCookieApiKey",
			filter: key1Cookie,
			steps:  []step{{req: request{line: "GET /path"}, want: missingAPIKey}},
			counts: counts(0, 1, 0),
		},
		{
			name:   "CookieApiKey",
			filter: key1Cookie,
			steps:  []step{{req: request{line: "GET /path", headers: []string{cookieKey1}}, want: allowed("user1")}},
			counts: counts(1, 0, 0),
		},
		{
			name:   "FallbackToQueryApiKey",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"},{"query":"api_key"}]}`,
			steps:  []step{{req: request{line: "GET /path?api_key=key1"}, want: allowed("user1")}},
			counts: counts(1, 0, 0),
		},
		{
			name:   "FallbackToCookieApiKey",
			filter: key1AllThree,
			steps:  []step{{req: request{line: "GET /path", headers: []string{cookieKey1}}, want: allowed("user1")}},
			counts: counts(1, 0, 0),
		},
		{
			// The first source holding a value decides: a wrong key there is
			// not rescued by a right one later.
			name:   "OrderOfKeySources",
			filter: key1AllThree,
			steps: []step{
				{req: request{line: "GET /path?api_key=key1", headers: []string{cookieKey1, "Authorization: Bearer key2"}}, want: unknownAPIKey},
				{req: request{line: "GET /path?api_key=key1", headers: []string{cookieKey1, bearerKey1}}, want: allowed("user1")},
				{req: request{line: "GET /path?api_key=key2", headers: []string{cookieKey1}}, want: unknownAPIKey},
				{req: request{line: "GET /path?api_key=key1", headers: []string{cookieKey1}}, want: allowed("user1")},
			},
			counts: counts(2, 2, 0),
		},
		{
			name:   "UnkonwnApiKey", // sic, Envoy's name
			filter: key1Header,
			steps:  []step{{req: request{line: "GET /path", headers: []string{"Authorization: Bearer key2"}}, want: unknownAPIKey}},
			counts: counts(0, 1, 0),
		},
		{
			name:   "RouteConfigOverrideCredentials",
			filter: key1Header,
			route:  `{"credentials":[{"key":"key2","client":"user2"}]}`,
			steps: []step{
				{req: request{line: "GET /path", headers: []string{"Authorization: Bearer key2"}}, want: allowed("user2")},
				{req: request{line: "GET /path", headers: []string{bearerKey1}}, want: unknownAPIKey},
			},
			counts: counts(1, 1, 0),
		},
		{
			name:   "RouteConfigOverrideKeySource",
			filter: key1Header,
			route:  `{"key_sources":[{"query":"api_key"}]}`,
			steps: []step{
				{req: request{line: "GET /path?api_key=key1"}, want: allowed("user1")},
				{req: request{line: "GET /path", headers: []string{bearerKey1}}, want: missingAPIKey},
			},
			counts: counts(1, 1, 0),
		},
		{
			name:   "RouteConfigOverrideKeySourceAndCredentials",
			filter: key1Header,
			route:  `{"credentials":[{"key":"key2","client":"user2"}],"key_sources":[{"query":"api_key"}]}`,
			steps: []step{
				{req: request{line: "GET /path?api_key=key2"}, want: allowed("user2")},
				{req: request{line: "GET /path", headers: []string{bearerKey1}}, want: missingAPIKey},
				{req: request{line: "GET /path?api_key=key1"}, want: unknownAPIKey},
			},
			counts: counts(1, 2, 0),
		},
		{
			name:   "NoCredentials",
			filter: `{"key_sources":[{"header":"Authorization"}]}`,
			steps:  []step{{req: request{line: "GET /path"}, want: unauthorized(DetailsMissingCredentials)}},
			counts: counts(0, 1, 0),
		},
		{
			name:   "NoKeySource",
			filter: `{"credentials":[{"key":"key1","client":"user1"}]}`,
			steps:  []step{{req: request{line: "GET /path"}, want: missingSources}},
			counts: counts(0, 1, 0),
		},
		{
			name:   "KnownApiKeyButNotAllowed",
			filter: `{"credentials":[{"key":"key1","client":"user1"},{"key":"key2","client":"user2"}],"key_sources":[{"header":"Authorization"}]}`,
			route:  `{"allowed_clients":["user2"]}`,
			steps: []step{
				{req: request{line: "GET /path", headers: []string{bearerKey1}}, want: notAllowed},
				{req: request{line: "GET /path", headers: []string{"Authorization: Bearer key2"}}, want: allowed("user2")},
			},
			counts: counts(1, 0, 1),
		},
		{
			name:   "HeaderApiKeyWithForwarding",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"}],` + forwardClient + `}`,
			steps: []step{{
				req:     request{line: "GET /path", headers: []string{bearerKey1}},
				want:    allowed("user1"),
				headers: map[string][]string{"x-client-id": {"user1"}, "authorization": {"Bearer key1"}},
			}},
			counts: counts(1, 0, 0),
		},
		{
			name:   "QueryApiKeyWithForwarding",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"query":"api_key"}],` + forwardClient + `}`,
			steps: []step{{
				req:     request{line: "GET /path?api_key=key1"},
				want:    allowed("user1"),
				headers: map[string][]string{"x-client-id": {"user1"}},
				target:  "/path?api_key=key1",
			}},
			counts: counts(1, 0, 0),
		},
		{
			name:   "CookieApiKeyWithForwarding",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"cookie":"api_key"}],` + forwardClient + `}`,
			steps: []step{{
				req:     request{line: "GET /path", headers: []string{cookieKey1}},
				want:    allowed("user1"),
				headers: map[string][]string{"x-client-id": {"user1"}, "cookie": {"api_key=key1"}},
			}},
			counts: counts(1, 0, 0),
		},
		{
			name:   "HideCredentialsHeader",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"}],"forwarding":{"hide_credentials":true}}`,
			steps: []step{{
				req:     request{line: "GET /path", headers: []string{bearerKey1}},
				want:    allowed("user1"),
				headers: map[string][]string{"authorization": nil},
			}},
			counts: counts(1, 0, 0),
		},
		{
			name:   "HideCredentialsHeaderWithForwarding",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"}],` + hideForward + `}`,
			steps: []step{{
				req:     request{line: "GET /path", headers: []string{bearerKey1}},
				want:    allowed("user1"),
				headers: map[string][]string{"x-client-id": {"user1"}, "authorization": nil},
			}},
			counts: counts(1, 0, 0),
		},
		{
			name:   "HideCredentialsQueryWithForwarding",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"query":"api_key"}],` + hideForward + `}`,
			steps: []step{
				{req: request{line: "GET /path?api_key=key1"}, want: allowed("user1"), headers: map[string][]string{"x-client-id": {"user1"}}, target: "/path"},
				{req: request{line: "GET /path?api_key=key1&foo=bar"}, want: allowed("user1"), headers: map[string][]string{"x-client-id": {"user1"}}, target: "/path?foo=bar"},
			},
			counts: counts(2, 0, 0),
		},
		{
			name:   "HideCredentialsCookieWithForwarding",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"cookie":"api_key"}],` + hideForward + `}`,
			steps: []step{
				{req: request{line: "GET /path", headers: []string{cookieKey1}}, want: allowed("user1"), headers: map[string][]string{"x-client-id": {"user1"}, "cookie": nil}},
				{req: request{line: "GET /path", headers: []string{"Cookie: api_key=key1; foo=bar"}}, want: allowed("user1"), headers: map[string][]string{"x-client-id": {"user1"}, "cookie": {"foo=bar"}}},
			},
			counts: counts(2, 0, 0),
		},
		{
			name:   "HideCredentialsMultipleKeySourcesWithForwarding",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"},{"query":"api_key"},{"cookie":"api_key"}],` + hideForward + `}`,
			steps: []step{{
				req:     request{line: "GET /path?api_key=key1", headers: []string{cookieKey1, bearerKey1}},
				want:    allowed("user1"),
				headers: map[string][]string{"x-client-id": {"user1"}, "authorization": nil, "cookie": nil},
				target:  "/path",
			}},
			counts: counts(1, 0, 0),
		},
		{
			name:   "RouteConfigOverrideForwarding",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"}],` + forwardClient + `}`,
			route:  `{"forwarding":{"header":"x-client-header","hide_credentials":true}}`,
			steps: []step{{
				req:     request{line: "GET /path", headers: []string{bearerKey1}},
				want:    allowed("user1"),
				headers: map[string][]string{"x-client-id": nil, "x-client-header": {"user1"}, "authorization": nil},
			}},
			counts: counts(1, 0, 0),
		},
		{
			// Added with Envoy PR #48010 (commit 951cf956): a CONNECT has no
			// :path, so the query source has nothing to rewrite and no path
			// may appear.
			name:   "HideCredentialsNoPathWithQueryKeySource",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"},{"query":"api_key"}],` + hideForward + `}`,
			steps: []step{{
				req:     request{line: "CONNECT host:443", headers: []string{bearerKey1}},
				want:    allowed("user1"),
				headers: map[string][]string{"x-client-id": {"user1"}, "authorization": nil},
				check: func(t *testing.T, req *http.Request) {
					if req.URL.Path != "" || req.URL.RawQuery != "" || req.URL.ForceQuery || req.RequestURI != "host:443" {
						t.Errorf("CONNECT target changed: path %q query %q target %q", req.URL.Path, req.URL.RawQuery, req.RequestURI)
					}
				},
			}},
			counts: counts(1, 0, 0),
		},
	})
}

// TestEnvoyIntegrationTests replays ApiKeyAuthIntegrationTestAllProtocols
// (integration_test.cc): the local reply bodies, and allowed_clients on a
// virtual host's per-route config.
func TestEnvoyIntegrationTests(t *testing.T) {
	const twoKeys = `{"credentials":[{"key":"key1","client":"user1"},{"key":"key2","client":"user2"}],"key_sources":[{"header":"Authorization"}]}`
	runCases(t, []filterCase{
		{
			name:   "ValidCredential",
			filter: twoKeys,
			steps: []step{
				{req: request{line: "GET /", headers: []string{bearerKey1}}, want: allowed("user1")},
				{req: request{line: "GET /", headers: []string{"Authorization: Bearer key2"}}, want: allowed("user2")},
			},
		},
		{
			name:   "NoCredential",
			filter: twoKeys,
			steps:  []step{{req: request{line: "GET /"}, want: Decision{Status: 401, Body: "Client authentication failed.", Details: "missing_api_key"}}},
		},
		{
			name:   "InvalidCredentical", // sic, Envoy's name
			filter: twoKeys,
			steps:  []step{{req: request{line: "GET /", headers: []string{"Authorization: Bearer key3"}}, want: Decision{Status: 401, Body: "Client authentication failed.", Details: "unkonwn_api_key"}}},
		},
		{
			name:   "NotAllowdClient", // sic, Envoy's name
			filter: twoKeys,
			route:  `{"allowed_clients":["user1"]}`,
			steps:  []step{{req: request{line: "GET /", headers: []string{"Authorization: Bearer key2"}}, want: Decision{Status: 403, Body: "Client is forbidden.", Details: "client_not_allowed"}}},
		},
	})
}

// TestLocalReplyContentType pins what Http::Utility::prepareLocalReply sets
// on a local reply with a body (source/common/http/utility.cc).
func TestLocalReplyContentType(t *testing.T) {
	if LocalReplyContentType != "text/plain" {
		t.Errorf("LocalReplyContentType = %q, want text/plain", LocalReplyContentType)
	}
}
