package apikeyauth

import (
	"net/http"
	"net/url"
	"testing"
)

// TestHeaderSource pins KeySources::Source::getKey for headers
// (api_key_auth.cc): LowerCaseString names, header[0] only, a
// case-sensitive "Bearer " prefix stripped from any header; and the header
// map (header_map_impl.cc) joining repeated inline headers with ",".
func TestHeaderSource(t *testing.T) {
	const xAPIKey = `{"credentials":[{"key":"key1","client":"user1"},{"key":"bearer key1","client":"lower"},{"key":"key1,Bearer key2","client":"joined"}],"key_sources":[{"header":"X-API-KEY"},{"query":"api_key"}]}`
	runCases(t, []filterCase{
		{
			name:   "header name is case-insensitive",
			filter: xAPIKey,
			steps: []step{
				{req: request{line: "GET /", headers: []string{"x-api-key: key1"}}, want: allowed("user1")},
				{req: request{line: "GET /", headers: []string{"X-Api-Key: key1"}}, want: allowed("user1")},
				{req: request{line: "GET /", headers: []string{"X-API-KEY: key1"}}, want: allowed("user1")},
			},
		},
		{
			name:   "Bearer prefix is stripped from any header",
			filter: xAPIKey,
			steps:  []step{{req: request{line: "GET /", headers: []string{"X-Api-Key: Bearer key1"}}, want: allowed("user1")}},
		},
		{
			name:   "lowercase bearer is not stripped",
			filter: key1Header,
			steps:  []step{{req: request{line: "GET /", headers: []string{"Authorization: bearer key1"}}, want: unknownAPIKey}},
		},
		{
			name:   "lowercase bearer is part of the key",
			filter: xAPIKey,
			steps:  []step{{req: request{line: "GET /", headers: []string{"X-Api-Key: bearer key1"}}, want: allowed("lower")}},
		},
		{
			name:   "only one space is stripped",
			filter: key1Header,
			steps:  []step{{req: request{line: "GET /", headers: []string{"Authorization: Bearer  key1"}}, want: unknownAPIKey}},
		},
		{
			// The filter sees "Bearer " as an empty key and moves on to the
			// next source.
			name:   "Bearer alone is not found",
			filter: xAPIKey,
			steps: []step{
				{req: request{line: "GET /", edit: setHeader("X-Api-Key", "Bearer ")}, want: missingAPIKey},
				{req: request{line: "GET /?api_key=key1", edit: setHeader("X-Api-Key", "Bearer ")}, want: allowed("user1")},
			},
		},
		{
			// On the wire the trailing space is trimmed (Envoy's HTTP/1 codec
			// rtrims values, as net/http does), leaving the key "Bearer".
			name:   "Bearer alone on the wire is an unknown key",
			filter: xAPIKey,
			steps:  []step{{req: request{line: "GET /?api_key=key1", headers: []string{"X-Api-Key: Bearer "}}, want: unknownAPIKey}},
		},
		{
			name:   "empty header value falls through to the next source",
			filter: xAPIKey,
			steps:  []step{{req: request{line: "GET /?api_key=key1", headers: []string{"X-Api-Key:"}}, want: allowed("user1")}},
		},
		{
			name:   "first of repeated headers",
			filter: xAPIKey,
			steps: []step{
				{req: request{line: "GET /", headers: []string{"X-Api-Key: key1", "X-Api-Key: key2"}}, want: allowed("user1")},
				{req: request{line: "GET /", headers: []string{"X-Api-Key: key2", "X-Api-Key: key1"}}, want: unknownAPIKey},
				{req: request{line: "GET /", headers: []string{"X-Api-Key:", "X-Api-Key: key1"}}, want: missingAPIKey},
			},
		},
		{
			// authorization is an inline header in a standard Envoy build, so
			// its repeated values reach the filter as one "a,b" value.
			name:   "repeated Authorization headers are joined",
			filter: `{"credentials":[{"key":"key1","client":"user1"},{"key":"key1,Bearer key2","client":"joined"}],"key_sources":[{"header":"authorization"}]}`,
			steps: []step{
				{req: request{line: "GET /", headers: []string{bearerKey1, "Authorization: Bearer key2"}}, want: allowed("joined")},
				{req: request{line: "GET /", headers: []string{"Authorization:", bearerKey1}}, want: allowed("user1")},
			},
		},
		{
			name:   "key match is exact and case-sensitive",
			filter: key1Header,
			steps: []step{
				{req: request{line: "GET /", headers: []string{"Authorization: Bearer KEY1"}}, want: unknownAPIKey},
				{req: request{line: "GET /", headers: []string{"Authorization: Bearer key10"}}, want: unknownAPIKey},
			},
		},
	})
}

// TestQuerySource pins QueryParamsMulti::parseAndDecodeQueryString and
// PercentEncoding::decode (source/common/http/utility.cc).
func TestQuerySource(t *testing.T) {
	const cfg = `{"credentials":[{"key":"key1","client":"user1"},{"key":"a+b","client":"plus"},{"key":"a b","client":"space"},{"key":"%zzkey","client":"bad-escape"}],"key_sources":[{"query":"api_key"}]}`
	runCases(t, []filterCase{{
		name:   "query",
		filter: cfg,
		steps: []step{
			{req: request{line: "GET /?api_key=key%31"}, want: allowed("user1")},
			{req: request{line: "GET /?api%5Fkey=key1"}, want: allowed("user1")},
			{req: request{line: "GET /?api_key=a+b"}, want: allowed("plus")},
			{req: request{line: "GET /?api_key=a%20b"}, want: allowed("space")},
			{req: request{line: "GET /?api_key=%zzkey"}, want: allowed("bad-escape")},
			{req: request{line: "GET /?api_key=key1&api_key=key2"}, want: allowed("user1")},
			{req: request{line: "GET /?api_key=key2&api_key=key1"}, want: unknownAPIKey},
			{req: request{line: "GET /?api_key=&api_key=key1"}, want: missingAPIKey},
			{req: request{line: "GET /?api_key"}, want: missingAPIKey},
			{req: request{line: "GET /?API_KEY=key1"}, want: missingAPIKey},
			{req: request{line: "GET /?x=1&&api_key=key1&"}, want: allowed("user1")},
			{req: request{line: "GET /?x=api_key=key1"}, want: missingAPIKey},
			{req: request{line: "GET /?api_key=key1=x"}, want: unknownAPIKey},
		},
	}})
}

// TestCookieSource pins parseCookieValue/forEachCookie
// (source/common/http/utility.cc).
func TestCookieSource(t *testing.T) {
	runCases(t, []filterCase{{
		name:   "cookie",
		filter: key1Cookie,
		steps: []step{
			{req: request{line: "GET /", headers: []string{`Cookie: api_key="key1"`}}, want: allowed("user1")},
			{req: request{line: "GET /", headers: []string{"Cookie: a=1;   api_key=key1"}}, want: allowed("user1")},
			{req: request{line: "GET /", headers: []string{"Cookie: junk; api_key=key1"}}, want: allowed("user1")},
			{req: request{line: "GET /", headers: []string{"Cookie: a=1", "Cookie: api_key=key1"}}, want: allowed("user1")},
			{req: request{line: "GET /", headers: []string{"Cookie: api_key=key1; api_key=key2"}}, want: allowed("user1")},
			{req: request{line: "GET /", headers: []string{"Cookie: api_key=; api_key=key1"}}, want: missingAPIKey},
			{req: request{line: "GET /", headers: []string{"Cookie: api_key =key1"}}, want: missingAPIKey},
			{req: request{line: "GET /", headers: []string{"Cookie: Api_Key=key1"}}, want: missingAPIKey},
			{req: request{line: "GET /", headers: []string{"Cookie: api_key=key1 ; a=1"}}, want: unknownAPIKey},
		},
	}})
}

// TestForwarding pins the success path of decodeHeaders: setCopy of the
// client id (header_map_impl.cc: remove, then add), then removeKey on every
// source.
func TestForwarding(t *testing.T) {
	const every = `{"credentials":[{"key":"key1","client":"user1"}],` +
		`"key_sources":[{"header":"Authorization"},{"header":"x-api-key"},{"query":"api_key"},{"cookie":"api_key"},{"query":"token"}],` + hideForward + `}`
	runCases(t, []filterCase{
		{
			name:   "spoofed client id header is replaced",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"}],` + forwardClient + `}`,
			steps: []step{{
				req:     request{line: "GET /", headers: []string{"X-Client-Id: admin", bearerKey1, "x-client-id: root"}},
				want:    allowed("user1"),
				headers: map[string][]string{"x-client-id": {"user1"}},
			}},
		},
		{
			name:   "spoofed client id header is kept on a denial",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"}],` + forwardClient + `}`,
			steps:  []step{{req: request{line: "GET /", headers: []string{"X-Client-Id: admin"}}, want: missingAPIKey}},
		},
		{
			// The key is found in the second source; every source is cleared
			// and everything else kept.
			name:   "hidden from every configured source, the rest kept",
			filter: every,
			steps: []step{{
				req: request{line: "GET /p?z=9&api_key=key1&token=t&a=1", headers: []string{
					"Authorization:", "X-Api-Key: key1", "Cookie: sid=1; api_key=key1; theme=dark", "X-Other: keep"}},
				want: allowed("user1"),
				headers: map[string][]string{"authorization": nil, "x-api-key": nil, "x-client-id": {"user1"},
					"cookie": {"sid=1; theme=dark"}, "x-other": {"keep"}},
				target: "/p?a=1&z=9",
			}},
		},
		{
			// QueryParamsMulti is a btree_map written back decoded: names end
			// up sorted, values unescaped, a bare name gains "=". Each query
			// source parses the rewritten query again, so with two of them an
			// unescaped "&" splits a value on the second pass.
			name:   "rewritten query is sorted and decoded",
			filter: every,
			steps: []step{
				{req: request{line: "GET /p?b=2&api_key=key1&a=%41+1&b=1&flag"}, want: allowed("user1"), target: "/p?a=A+1&b=2&b=1&flag="},
				{req: request{line: "GET /p?api_key=key1&x=a%26b"}, want: allowed("user1"), target: "/p?b=&x=a"},
			},
		},
		{
			name:   "one query source rewrites once",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"query":"api_key"}],` + hideForward + `}`,
			steps:  []step{{req: request{line: "GET /p?api_key=key1&x=a%26b&c=%zz"}, want: allowed("user1"), target: "/p?c=%zz&x=a&b"}},
		},
		{
			name:   "query rewritten even when the key came from a header",
			filter: every,
			steps: []step{
				{req: request{line: "GET /p?b=2&a=1", headers: []string{bearerKey1}}, want: allowed("user1"), target: "/p?a=1&b=2"},
				{req: request{line: "GET /p?", headers: []string{bearerKey1}}, want: allowed("user1"), target: "/p"},
				{req: request{line: "GET /p", headers: []string{bearerKey1}}, want: allowed("user1"), target: "/p"},
			},
		},
		{
			// removeCookieValue rebuilds one Cookie header from the parsed
			// cookies: malformed ones dropped, quotes removed, headers merged.
			name:   "rewritten cookies are normalized into one header",
			filter: every,
			steps: []step{
				{
					req:     request{line: "GET /", headers: []string{bearerKey1, `Cookie: a="1"; junk;  b=2`, "Cookie: c=3"}},
					want:    allowed("user1"),
					headers: map[string][]string{"cookie": {"a=1; b=2; c=3"}},
				},
				{
					req:     request{line: "GET /", headers: []string{"Cookie: junk; api_key=key1"}},
					want:    allowed("user1"),
					headers: map[string][]string{"cookie": nil},
				},
			},
		},
		{
			name:   "forwarding header that is also a key source is hidden too",
			filter: `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"x-client-id"}],` + hideForward + `}`,
			steps:  []step{{req: request{line: "GET /", headers: []string{"X-Client-Id: key1"}}, want: allowed("user1"), headers: map[string][]string{"x-client-id": nil}}},
		},
	})
}

// TestOddRequests: Check must not panic on any request.
func TestOddRequests(t *testing.T) {
	const cfg = `{"credentials":[{"key":"key1","client":"user1"}],"key_sources":[{"header":"Authorization"},{"query":"api_key"},{"cookie":"api_key"}],` + hideForward + `}`
	runCases(t, []filterCase{{
		name:   "odd requests",
		filter: cfg,
		steps: []step{
			{
				req:     request{line: "GET /", headers: []string{bearerKey1}, edit: func(r *http.Request) { r.URL = nil }},
				want:    allowed("user1"),
				headers: map[string][]string{"authorization": nil, "x-client-id": {"user1"}},
			},
			{
				req:     request{line: "GET /?api_key=key1", edit: func(r *http.Request) { r.Header = nil }},
				want:    allowed("user1"),
				headers: map[string][]string{"x-client-id": {"user1"}},
			},
			{
				req:  request{line: "CONNECT host:443", edit: func(r *http.Request) { r.URL = &url.URL{} }},
				want: missingAPIKey,
			},
		},
	}})
	cfgc, _ := compileCase(t, cfg, "")
	if d := Check(cfgc, nil); d != missingAPIKey {
		t.Errorf("Check(cfg, nil) = %+v, want %+v", d, missingAPIKey)
	}
	if d := Check(nil, &http.Request{}); d != missingSources {
		t.Errorf("Check(nil, req) = %+v, want %+v", d, missingSources)
	}
}

func setHeader(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(name, value) }
}
