package apikeyauth

import (
	"net/http"
	"strings"
	"testing"
)

// TestCompile covers Envoy's config_test.cc (DuplicateApiKey, EmptyKeySource,
// NormalFactory) and the proto validation Envoy runs before the factory.
func TestCompile(t *testing.T) {
	const secret = "s3cr3t-k3y"
	tests := []struct {
		name    string
		filter  string // ApiKeyAuth JSON; ignored when route is set
		route   string // ApiKeyAuthPerRoute JSON
		wantErr string // substring of the error, "" for success
	}{
		{
			// Envoy's own text, which echoes the key: those who report it
			// scrub it (sim/xdsclient, sim/dataplane).
			name:    "DuplicateApiKey",
			filter:  `{"credentials":[{"key":"` + secret + `","client":"user1"},{"key":"` + secret + `","client":"user2"}],"key_sources":[{"header":"Authorization"}]}`,
			wantErr: `Duplicated credential key: '` + secret + `'`,
		},
		{
			name:    "DuplicateApiKey/per-route",
			route:   `{"credentials":[{"key":"a","client":"c0"},{"key":"` + secret + `","client":"c1"},{"key":"` + secret + `","client":"c2"}]}`,
			wantErr: `Duplicated credential key: '` + secret + `'`,
		},
		{
			name:    "EmptyKeySource",
			filter:  `{"credentials":[{"key":"key1","client":"user1"},{"key":"key2","client":"user2"}],"key_sources":[{"header":""}]}`,
			wantErr: "key_sources[0]: one of 'header'/'query'/'cookie' must be set",
		},
		{
			name:    "EmptyKeySource/per-route second source",
			route:   `{"key_sources":[{"query":"api_key"},{}]}`,
			wantErr: "key_sources[1]: one of 'header'/'query'/'cookie' must be set",
		},
		{
			// KeySources is built before the credentials in ApiKeyAuthConfig.
			name:    "bad key source reported before duplicate key",
			filter:  `{"credentials":[{"key":"` + secret + `","client":"u1"},{"key":"` + secret + `","client":"u2"}],"key_sources":[{"cookie":""}]}`,
			wantErr: "one of 'header'/'query'/'cookie' must be set",
		},
		{
			name:    "ValidateAll: empty key",
			filter:  `{"credentials":[{"key":"","client":"user1"}],"key_sources":[{"header":"x-api-key"}]}`,
			wantErr: "invalid ApiKeyAuth",
		},
		{
			name:    "ValidateAll: empty client",
			route:   `{"credentials":[{"key":"` + secret + `","client":""}]}`,
			wantErr: "invalid ApiKeyAuthPerRoute",
		},
		{
			name:    "ValidateAll: header name with a newline",
			filter:  `{"key_sources":[{"header":"x-api\nkey"}]}`,
			wantErr: "invalid ApiKeyAuth",
		},
		{
			name:    "ValidateAll: forwarding header with a carriage return",
			route:   `{"forwarding":{"header":"x-client\rid"}}`,
			wantErr: "invalid ApiKeyAuthPerRoute",
		},
		{
			name:    "ValidateAll: query name longer than 1024",
			filter:  `{"key_sources":[{"query":"` + strings.Repeat("q", 1025) + `"}]}`,
			wantErr: "invalid ApiKeyAuth",
		},
		{
			name:   "NormalFactory",
			filter: `{"credentials":[{"key":"key1","client":"user1"},{"key":"key2","client":"user2"}],"key_sources":[{"header":"Authorization"}]}`,
		},
		{
			name:  "NormalFactory/per-route",
			route: `{"credentials":[{"key":"key3","client":"user3"}],"allowed_clients":["user1"]}`,
		},
		{
			// The HCM's placeholder: an empty filter config is valid.
			name:   "empty filter config",
			filter: `{}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.route != "" {
				_, err = CompilePerRoute(routeProto(t, tt.route))
			} else {
				_, err = Compile(filterProto(t, tt.filter))
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %s", redact([]string{secret}, err.Error()))
			case tt.wantErr != "" && err == nil:
				t.Fatalf("no error, want one containing %q", tt.wantErr)
			case err != nil:
				msg := err.Error()
				// Only Envoy's duplicate-key text echoes a key, by design.
				if strings.Contains(msg, secret) && !strings.HasPrefix(tt.wantErr, "Duplicated credential key") {
					t.Errorf("error carries the API key: %s", redact([]string{secret}, msg))
				}
				if !strings.Contains(msg, tt.wantErr) {
					t.Errorf("error = %s, want it to contain %q", redact([]string{secret}, msg), tt.wantErr)
				}
			}
		})
	}
}

func TestCompileNil(t *testing.T) {
	if _, err := Compile(nil); err == nil {
		t.Error("Compile(nil) succeeded")
	}
	if _, err := CompilePerRoute(nil); err == nil {
		t.Error("CompilePerRoute(nil) succeeded")
	}
}

// TestConfigStringHidesKeys: a Config that ends up in a log line must not
// print its credentials.
func TestConfigStringHidesKeys(t *testing.T) {
	cfg, keys := compileCase(t, `{"credentials":[{"key":"s3cr3t-k3y","client":"user1"}],"key_sources":[{"header":"x-api-key"},{"query":"k"},{"cookie":"c"}],`+hideForward+`}`, "")
	got := cfg.String()
	if strings.Contains(got, keys[0]) {
		t.Fatalf("Config.String carries the API key: %s", redact(keys, got))
	}
	const want = `api_key_auth{credentials: 1, key_sources: [header:X-Api-Key, query:k, cookie:c], forwarding: {header: "X-Client-Id", hide_credentials: true}, allowed_clients: 0}`
	if got != want {
		t.Errorf("Config.String() = %s\nwant              %s", got, want)
	}
}

// TestEffective covers the merge in ApiKeyAuthFilter::decodeHeaders
// (api_key_auth.cc) and what ApiKeyAuthConfig returns as present
// (api_key_auth.h): credentials and key sources only when non-empty,
// forwarding always, because the constructor always builds it.
func TestEffective(t *testing.T) {
	const filter = `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"}],` + hideForward + `}`
	runCases(t, []filterCase{
		{
			name:   "per-route config without forwarding turns filter forwarding off",
			filter: filter,
			route:  `{"allowed_clients":["user1"]}`,
			steps: []step{{
				req:     request{line: "GET /p", headers: []string{bearerKey1}},
				want:    allowed("user1"),
				headers: map[string][]string{"x-client-id": nil, "authorization": {"Bearer key1"}},
			}},
		},
		{
			name:   "per-route empty credentials and sources keep the filter's",
			filter: filter,
			route:  `{"credentials":[],"key_sources":[]}`,
			steps:  []step{{req: request{line: "GET /p", headers: []string{bearerKey1}}, want: allowed("user1")}},
		},
		{
			name:   "per-route credentials replace, never add to, the filter's",
			filter: filter,
			route:  `{"credentials":[{"key":"key2","client":"user2"}]}`,
			steps: []step{
				{req: request{line: "GET /p", headers: []string{bearerKey1}}, want: unknownAPIKey},
				{req: request{line: "GET /p", headers: []string{"Authorization: Bearer key2"}}, want: allowed("user2")},
			},
		},
		{
			name:   "allowed_clients checked after authentication",
			filter: filter,
			route:  `{"allowed_clients":["someone-else"]}`,
			steps: []step{
				{req: request{line: "GET /p", headers: []string{"Authorization: Bearer nope"}}, want: unknownAPIKey},
				{req: request{line: "GET /p"}, want: missingAPIKey},
				{req: request{line: "GET /p", headers: []string{bearerKey1}}, want: notAllowed},
			},
			counts: counts(0, 2, 1),
		},
		{
			// kgateway's shape (its route-level e2e case): an empty filter
			// config and the whole policy per route.
			name:   "empty filter config with a full per-route config",
			filter: `{}`,
			route: `{"credentials":[{"key":"k-123","client":"client1"},{"key":"k-456","client":"client2"}],` +
				`"key_sources":[{"header":"api-key"},{"header":"Authorization"}],"forwarding":{"header":"x-client","hide_credentials":true}}`,
			steps: []step{
				{req: request{line: "GET /headers"}, want: missingAPIKey},
				{
					req:     request{line: "GET /headers", headers: []string{"api-key: k-123"}},
					want:    allowed("client1"),
					headers: map[string][]string{"api-key": nil, "x-client": {"client1"}},
				},
				{
					req:     request{line: "GET /headers", headers: []string{"Authorization: Bearer k-456"}},
					want:    allowed("client2"),
					headers: map[string][]string{"authorization": nil, "x-client": {"client2"}},
				},
				{req: request{line: "GET /headers", headers: []string{"Authorization: Bearer invalid-key"}}, want: unknownAPIKey},
			},
			counts: counts(2, 2, 0),
		},
		{
			name:   "empty filter config alone fails closed",
			filter: `{}`,
			steps:  []step{{req: request{line: "GET /", headers: []string{bearerKey1}}, want: missingSources}},
		},
	})
}

func TestEffectiveSharesWhatItCan(t *testing.T) {
	filter, _ := compileCase(t, `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"a"}]}`, "")
	full, err := CompilePerRoute(routeProto(t, `{"credentials":[{"key":"key2","client":"user2"}],"key_sources":[{"header":"b"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	partial, err := CompilePerRoute(routeProto(t, `{"allowed_clients":["user1"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if Effective(filter, nil) != filter {
		t.Error("Effective(filter, nil) is not the filter config")
	}
	if Effective(filter, full) != full {
		t.Error("a per-route config with credentials and sources is not used as is")
	}
	if got := Effective(filter, partial); got == partial || got == filter {
		t.Error("a partial per-route config was not merged into a new config")
	}
	if len(partial.credentials) != 0 || len(partial.sources) != 0 {
		t.Error("Effective modified the per-route config")
	}
	if d := Check(Effective(nil, nil), &http.Request{}); d != missingSources {
		t.Errorf("Effective(nil, nil) decision = %+v, want %+v", d, missingSources)
	}
}
