package translate

import (
	"regexp"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestPrefixRedirectTable checks setPrefixRedirect against every row of
// Gateway API's ReplacePrefixMatch table (HTTPPathModifier), and against
// a route matching "/", by applying the redirect as Envoy does: a
// prefix_rewrite replaces the matched prefix, a regex_rewrite the first
// match of its anchored pattern.
func TestPrefixRedirectTable(t *testing.T) {
	for _, tc := range []struct{ path, prefix, replacement, want string }{
		{"/foo/bar", "/foo", "/xyz", "/xyz/bar"},
		{"/foo/bar", "/foo", "/xyz/", "/xyz/bar"},
		{"/foo/bar", "/foo/", "/xyz", "/xyz/bar"},
		{"/foo/bar", "/foo/", "/xyz/", "/xyz/bar"},
		{"/foo", "/foo", "/xyz", "/xyz"},
		{"/foo/", "/foo", "/xyz", "/xyz/"},
		{"/foo/bar", "/foo", "", "/bar"},
		{"/foo/", "/foo", "", "/"},
		{"/foo", "/foo", "", "/"},
		{"/foo/", "/foo", "/", "/"},
		{"/foo", "/foo", "/", "/"},
		// Not in the table: the root prefix, and a prefix with regex
		// metacharacters.
		{"/bar", "/", "/xyz", "/xyz/bar"},
		{"/", "/", "/xyz", "/xyz/"},
		{"/bar", "/", "", "/bar"},
		{"/a.b/c", "/a.b", "", "/c"},
	} {
		m, err := compileMatch(0, &gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: new(gwv1.PathMatchPathPrefix), Value: new(tc.prefix)}})
		if err != nil {
			t.Fatal(err)
		}
		rd := &routev3.RedirectAction{}
		setPrefixRedirect(rd, m.match.GetPathSeparatedPrefix(), tc.replacement)
		if got := envoyRedirectPath(t, rd, m.match, tc.path); got != tc.want {
			t.Errorf("%s with prefix %q replaced by %q: got %s, want %s (%v)", tc.path, tc.prefix, tc.replacement, got, tc.want, rd)
		}
	}
}

// envoyRedirectPath is the path of Envoy's Location for a request to path
// that matched m (rewritePathByPrefixOrRegex in Envoy's config_impl.cc).
func envoyRedirectPath(t *testing.T, rd *routev3.RedirectAction, m *routev3.RouteMatch, path string) string {
	t.Helper()
	if rw := rd.GetRegexRewrite(); rw != nil {
		re := regexp.MustCompile(rw.GetPattern().GetRegex())
		if !strings.HasPrefix(rw.GetPattern().GetRegex(), "^") {
			t.Fatalf("regex %q is not anchored: Envoy would replace every match", rw.GetPattern().GetRegex())
		}
		return re.ReplaceAllLiteralString(path, rw.GetSubstitution())
	}
	matched := m.GetPathSeparatedPrefix() + m.GetPrefix()
	if !strings.HasPrefix(path, matched) {
		t.Fatalf("%s does not start with the matched prefix %s", path, matched)
	}
	return rd.GetPrefixRewrite() + path[len(matched):]
}

// TestRedirectPort covers Gateway API's port rules for redirects
// (HTTPRequestRedirectFilter.Port), as the conformance test
// HTTPRouteRedirectPortAndScheme checks them, and the cases where Envoy
// would otherwise keep the port of the request's Host.
func TestRedirectPort(t *testing.T) {
	http80 := &listenerModel{port: 80, spec: &gwv1.Listener{Protocol: gwv1.HTTPProtocolType}}
	http8080 := &listenerModel{port: 8080, spec: &gwv1.Listener{Protocol: gwv1.HTTPProtocolType}}
	https443 := &listenerModel{port: 443, spec: &gwv1.Listener{Protocol: gwv1.HTTPSProtocolType}}
	https8443 := &listenerModel{port: 8443, spec: &gwv1.Listener{Protocol: gwv1.HTTPSProtocolType}}
	host := new(gwv1.PreciseHostname("example.org"))
	redirect := func(scheme string, port int32, hostname *gwv1.PreciseHostname) *gwv1.HTTPRequestRedirectFilter {
		f := &gwv1.HTTPRequestRedirectFilter{Hostname: hostname}
		if scheme != "" {
			f.Scheme = new(scheme)
		}
		if port != 0 {
			f.Port = new(gwv1.PortNumber(port))
		}
		return f
	}
	for _, tc := range []struct {
		name     string
		listener *listenerModel
		filter   *gwv1.HTTPRequestRedirectFilter
		want     uint32
	}{
		{"80: nothing set", http80, redirect("", 0, host), 0},
		{"80: port 80", http80, redirect("", 80, host), 0},
		{"80: port 8080", http80, redirect("", 8080, host), 8080},
		{"80: https", http80, redirect("https", 0, host), 0},
		{"80: https 443", http80, redirect("https", 443, host), 0},
		{"80: https 8443", http80, redirect("https", 8443, host), 8443},
		{"80: http 443 keeps the port", http80, redirect("http", 443, host), 443},
		{"8080: nothing set", http8080, redirect("", 0, host), 8080},
		{"8080: port 80", http8080, redirect("", 80, host), 0},
		{"8080: https", http8080, redirect("https", 0, host), 0},
		{"443: nothing set", https443, redirect("", 0, host), 0},
		{"443: port 443", https443, redirect("", 443, host), 0},
		{"443: port 8443", https443, redirect("", 8443, host), 8443},
		{"443: http", https443, redirect("http", 0, host), 0},
		{"443: http 80", https443, redirect("http", 80, host), 0},
		{"443: http 8080", https443, redirect("http", 8080, host), 8080},
		// Without a hostname Envoy keeps the request's Host with its port,
		// which clients send to a listener on a port not its scheme's.
		{"80 without hostname: https", http80, redirect("https", 0, nil), 0},
		{"8080 without hostname: nothing set", http8080, redirect("", 0, nil), 8080},
		{"8080 without hostname: https", http8080, redirect("https", 0, nil), 443},
		{"8080 without hostname: port 80", http8080, redirect("", 80, nil), 80},
		{"8443 without hostname: http", https8443, redirect("http", 0, nil), 80},
		{"443 without hostname: http", https443, redirect("http", 0, nil), 0},
	} {
		if got := redirectPort(tc.filter, tc.listener); got != tc.want {
			t.Errorf("%s: port_redirect %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestRedirectProblems(t *testing.T) {
	prefixMatch := []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: new(gwv1.PathMatchPathPrefix), Value: new("/a")}}}
	exactMatch := []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: new(gwv1.PathMatchExact), Value: new("/a")}}}
	replacePrefix := &gwv1.HTTPPathModifier{Type: gwv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: new("/b")}
	for _, tc := range []struct {
		name   string
		filter *gwv1.HTTPRequestRedirectFilter
		rule   gwv1.HTTPRouteRule
		want   string // "" for none; else a part of the only problem
	}{
		{"hostname and status", &gwv1.HTTPRequestRedirectFilter{Hostname: new(gwv1.PreciseHostname("example.org")), StatusCode: new(301)}, gwv1.HTTPRouteRule{}, ""},
		{"prefix replacement on the default match", &gwv1.HTTPRequestRedirectFilter{Path: replacePrefix}, gwv1.HTTPRouteRule{}, ""},
		{"prefix replacement on a prefix match", &gwv1.HTTPRequestRedirectFilter{Path: replacePrefix}, gwv1.HTTPRouteRule{Matches: prefixMatch}, ""},
		{"prefix replacement on an exact match", &gwv1.HTTPRequestRedirectFilter{Path: replacePrefix}, gwv1.HTTPRouteRule{Matches: exactMatch}, "needs PathPrefix matches"},
		{"unknown scheme", &gwv1.HTTPRequestRedirectFilter{Scheme: new("ftp")}, gwv1.HTTPRouteRule{}, `scheme "ftp"`},
		{"unknown status", &gwv1.HTTPRequestRedirectFilter{StatusCode: new(304)}, gwv1.HTTPRouteRule{}, "statusCode 304"},
		{"unknown path type", &gwv1.HTTPRequestRedirectFilter{Path: &gwv1.HTTPPathModifier{Type: "ReplaceRegex"}}, gwv1.HTTPRouteRule{}, `path type "ReplaceRegex"`},
		{"with backendRefs", &gwv1.HTTPRequestRedirectFilter{}, gwv1.HTTPRouteRule{BackendRefs: []gwv1.HTTPBackendRef{{}}}, "together with backendRefs"},
		{"not set", nil, gwv1.HTTPRouteRule{}, "not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkProblems(t, redirectProblems(tc.filter, &tc.rule), tc.want)
		})
	}
}
