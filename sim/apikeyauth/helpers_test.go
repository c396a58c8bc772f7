package apikeyauth

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

// filterProto and routeProto parse configs written as the JSON form of
// Envoy's YAML, so the tables read like Envoy's own tests.
func filterProto(t testing.TB, js string) *apikeyv3.ApiKeyAuth {
	t.Helper()
	m := &apikeyv3.ApiKeyAuth{}
	if err := protojson.Unmarshal([]byte(js), m); err != nil {
		t.Fatalf("bad ApiKeyAuth JSON in test: %v", err)
	}
	return m
}

func routeProto(t testing.TB, js string) *apikeyv3.ApiKeyAuthPerRoute {
	t.Helper()
	m := &apikeyv3.ApiKeyAuthPerRoute{}
	if err := protojson.Unmarshal([]byte(js), m); err != nil {
		t.Fatalf("bad ApiKeyAuthPerRoute JSON in test: %v", err)
	}
	return m
}

// compileCase compiles a filter config and an optional per-route config,
// merges them, and returns every API key they hold, for redaction.
func compileCase(t testing.TB, filterJSON, routeJSON string) (*Config, []string) {
	t.Helper()
	fp := filterProto(t, filterJSON)
	filter, err := Compile(fp)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	keys := credentialKeys(fp.GetCredentials())
	var route *Config
	if routeJSON != "" {
		rp := routeProto(t, routeJSON)
		if route, err = CompilePerRoute(rp); err != nil {
			t.Fatalf("CompilePerRoute: %v", err)
		}
		keys = append(keys, credentialKeys(rp.GetCredentials())...)
	}
	return Effective(filter, route), keys
}

func credentialKeys(creds []*apikeyv3.Credential) []string {
	var keys []string
	for _, c := range creds {
		keys = append(keys, c.GetKey())
	}
	return keys
}

// redact replaces every API key in s, so failure messages never show one,
// even a test's.
func redact(keys []string, s string) string {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b string) int { return len(b) - len(a) })
	for _, k := range keys {
		if k != "" {
			s = strings.ReplaceAll(s, k, "[key]")
		}
	}
	return s
}

// request is an HTTP/1.1 request as it arrives on the wire: parsed by
// net/http exactly as the sim's server parses it (names canonicalized,
// values trimmed), then optionally edited into a shape the wire cannot carry.
type request struct {
	line    string   // method and request-target, e.g. "GET /path?x=1"
	headers []string // "Name: value" lines
	edit    func(*http.Request)
}

func (r request) build(t testing.TB) *http.Request {
	t.Helper()
	var b strings.Builder
	b.WriteString(r.line + " HTTP/1.1\r\nHost: host\r\n")
	for _, h := range r.headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(b.String())))
	if err != nil {
		t.Fatalf("bad request in test %q: %v", r.line, err)
	}
	if r.edit != nil {
		r.edit(req)
	}
	return req
}

// snapshot is everything Check may change, to prove a denial changes nothing.
type snapshot struct {
	header     http.Header
	url        *url.URL
	requestURI string
}

func snap(req *http.Request) snapshot {
	s := snapshot{header: req.Header.Clone(), requestURI: req.RequestURI}
	if req.URL != nil {
		u := *req.URL
		s.url = &u
	}
	return s
}

// step is one request through a case's config and what must come of it.
type step struct {
	req  request
	want Decision
	// headers after the check; a nil value means the header must be absent.
	headers map[string][]string
	// target is the request-target after the check (RequestURI and
	// URL.RequestURI()), when set.
	target string
	check  func(t *testing.T, req *http.Request)
}

type filterCase struct {
	name   string
	filter string // ApiKeyAuth JSON
	route  string // ApiKeyAuthPerRoute JSON, "" for none
	steps  []step
	// counts are the allowed, unauthorized and forbidden counters after all
	// steps, when set.
	counts *[3]uint64
}

func counts(allowed, unauthorized, forbidden uint64) *[3]uint64 {
	return &[3]uint64{allowed, unauthorized, forbidden}
}

func allowed(client string) Decision { return Decision{Allowed: true, Client: client} }

var (
	missingAPIKey  = unauthorized(DetailsMissingAPIKey)
	unknownAPIKey  = unauthorized(DetailsUnknownAPIKey)
	notAllowed     = Decision{Status: http.StatusForbidden, Body: BodyForbidden, Details: DetailsClientNotAllowed}
	missingSources = unauthorized(DetailsMissingKeySources)
)

func runCases(t *testing.T, cases []filterCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, keys := compileCase(t, c.filter, c.route)
			var ctr Counters
			for i, s := range c.steps {
				ctr.Record(runStep(t, i, cfg, keys, s))
			}
			if c.counts != nil {
				got := [3]uint64{ctr.Allowed.Load(), ctr.Unauthorized.Load(), ctr.Forbidden.Load()}
				if got != *c.counts {
					t.Errorf("counters allowed/unauthorized/forbidden = %v, want %v", got, *c.counts)
				}
			}
		})
	}
}

func runStep(t *testing.T, i int, cfg *Config, keys []string, s step) Decision {
	t.Helper()
	req := s.req.build(t)
	before := snap(req)
	got := Check(cfg, req)
	if got != s.want {
		t.Errorf("step %d (%s): decision = %s, want %s", i, redact(keys, s.req.line),
			redact(keys, fmt.Sprintf("%+v", got)), redact(keys, fmt.Sprintf("%+v", s.want)))
	}
	for _, k := range keys {
		if k != "" && strings.Contains(got.Details+got.Body+got.Client, k) {
			t.Errorf("step %d: decision carries an API key", i)
		}
	}
	if !got.Allowed && !reflect.DeepEqual(before, snap(req)) {
		t.Errorf("step %d: a denied request was modified", i)
	}
	for name, want := range s.headers {
		if vals, ok := req.Header[http.CanonicalHeaderKey(name)]; !reflect.DeepEqual(vals, want) || ok != (want != nil) {
			t.Errorf("step %d: header %s = %s, want %s", i, name,
				redact(keys, fmt.Sprintf("%q (present %t)", vals, ok)), redact(keys, fmt.Sprintf("%q", want)))
		}
	}
	if s.target != "" {
		if req.RequestURI != s.target || req.URL.RequestURI() != s.target {
			t.Errorf("step %d: request-target = %s (URL %s), want %s", i,
				redact(keys, req.RequestURI), redact(keys, req.URL.RequestURI()), redact(keys, s.target))
		}
	}
	if s.check != nil {
		s.check(t, req)
	}
	return got
}
