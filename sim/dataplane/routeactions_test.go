package dataplane_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/keyconform/keyconform/internal/xdstest"
	"github.com/keyconform/keyconform/sim/apikeyauth"
)

func routeTo(name string, match *routev3.RouteMatch, a *routev3.RouteAction) *routev3.Route {
	if a.ClusterSpecifier == nil {
		a.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: clusterName}
	}
	return &routev3.Route{Name: name, Match: match, Action: &routev3.Route_Route{Route: a}}
}

func sepPrefix(p string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: p}}
}

func hv(key, value string, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: key, Value: value}, AppendAction: action}
}

func regexSub(pattern, sub string) *matcherv3.RegexMatchAndSubstitute {
	return &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: pattern}, Substitution: sub}
}

const (
	appendOrAdd    = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
	addIfAbsent    = corev3.HeaderValueOption_ADD_IF_ABSENT
	overwriteOrAdd = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
	overwriteIf    = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS
)

// keepPorts is the translator's listener without strip_any_host_port, so
// that redirects see the request's port.
func keepPorts(h *hcmv3.HttpConnectionManager) { h.StripPortMode = nil }

// suppressEnvoyHeaders is Envoy Gateway's router.
func suppressEnvoyHeaders(t *testing.T) func(*hcmv3.HttpConnectionManager) {
	return func(h *hcmv3.HttpConnectionManager) {
		h.HttpFilters[len(h.HttpFilters)-1].ConfigType = &hcmv3.HttpFilter_TypedConfig{TypedConfig: xdstest.Any(t, &routerv3.Router{SuppressEnvoyHeaders: true})}
	}
}

func startWith(t *testing.T, listener func(*hcmv3.HttpConnectionManager), rc *routev3.RouteConfiguration, extra ...types.Resource) *env {
	t.Helper()
	e := newEnv(t)
	e.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res := []types.Resource{xdstest.Listener(t, port, listener), rc, xdstest.Cluster(clusterName), xdstest.Endpoints(t, clusterName, podAddr)}
	e.start(t, append(res, extra...)...)
	return e
}

func noop(*hcmv3.HttpConnectionManager) {}

// Redirects as Envoy Gateway emits them (http-route-redirect and
// httproute-redirect goldens) and the Location Envoy builds
// (Http::Utility::newUri): scheme, host, port (the request's, dropped for
// a scheme's default port when the scheme changes), path rewrites, query.
func TestRedirects(t *testing.T) {
	redirect := func(name string, match *routev3.RouteMatch, rd *routev3.RedirectAction) *routev3.Route {
		return &routev3.Route{Name: name, Match: match, Action: &routev3.Route_Redirect{Redirect: rd}}
	}
	vh := xdstest.VirtualHost(port, "",
		redirect("eg-1", prefix("/eg1"), &routev3.RedirectAction{
			SchemeRewriteSpecifier: &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: "https"},
			HostRedirect:           "redirected.com", PortRedirect: 8443,
			PathRewriteSpecifier: &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: "/redirected"},
			ResponseCode:         routev3.RedirectAction_FOUND,
		}),
		redirect("eg-2", sepPrefix("/redirect"), &routev3.RedirectAction{
			PathRewriteSpecifier: &routev3.RedirectAction_RegexRewrite{RegexRewrite: regexSub(`^/redirect\/*`, "/")},
		}),
		redirect("https", prefix("/https"), &routev3.RedirectAction{
			SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true},
			ResponseCode:           routev3.RedirectAction_PERMANENT_REDIRECT,
		}),
		redirect("port", prefix("/port"), &routev3.RedirectAction{PortRedirect: 9090, ResponseCode: routev3.RedirectAction_SEE_OTHER}),
		redirect("path", prefix("/path"), &routev3.RedirectAction{
			PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: "/new"},
			ResponseCode:         routev3.RedirectAction_TEMPORARY_REDIRECT,
		}),
		redirect("strip", prefix("/strip"), &routev3.RedirectAction{
			PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: "/new"}, StripQuery: true,
		}),
		redirect("own-query", prefix("/own-query"), &routev3.RedirectAction{
			PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: "/new?x=y"}, StripQuery: true,
		}),
		redirect("headers", prefix("/headers"), &routev3.RedirectAction{HostRedirect: "h.example"}),
	)
	vh.Routes[len(vh.Routes)-1].ResponseHeadersToAdd = []*corev3.HeaderValueOption{hv("x-route", "redirect", overwriteOrAdd)}
	e := startWith(t, keepPorts, xdstest.RouteConfig(port, vh))
	tests := []struct {
		host, path string
		status     int
		location   string
	}{
		{"gw.example", "/eg1/x?q=1", 302, "https://redirected.com:8443/redirected/x?q=1"},
		{"gw.example:8080", "/redirect/a/b?q", 301, "http://gw.example:8080/a/b?q"},
		{"gw.example:80", "/https/x", 308, "https://gw.example/https/x"},        // :80 is http's
		{"gw.example:8080", "/https/x", 308, "https://gw.example:8080/https/x"}, // not a default port
		{"gw.example:443", "/https/x", 308, "https://gw.example:443/https/x"},   // the request was http
		{"[::1]:80", "/https", 308, "https://[::1]/https"},
		{"gw.example:8080", "/port?a=1", 303, "http://gw.example:9090/port?a=1"},
		{"gw.example", "/path?a=1", 307, "http://gw.example/new?a=1"},
		{"gw.example", "/strip?a=1", 301, "http://gw.example/new"},
		{"gw.example", "/own-query?a=1", 301, "http://gw.example/new?x=y"},
	}
	for _, tt := range tests {
		got := e.do(t, request{host: tt.host, path: tt.path})
		if got.status != tt.status || got.header.Get("Location") != tt.location {
			t.Errorf("%s %s -> %d %q, want %d %q", tt.host, tt.path, got.status, got.header.Get("Location"), tt.status, tt.location)
		}
		if got.body != "" || got.header.Get("Content-Type") != "" || got.header.Get("Content-Length") != "0" {
			t.Errorf("%s %s: a redirect has no body: %q %v", tt.host, tt.path, got.body, got.header)
		}
	}
	got := e.do(t, request{host: "gw.example", path: "/headers"})
	if got.header.Get("X-Route") != "redirect" || got.header.Get("Location") != "http://h.example/headers" {
		t.Errorf("redirect with response headers: %d %v", got.status, got.header)
	}
	// x-forwarded-proto decides the request's scheme when the connection
	// manager trusts it (use_remote_address off).
	e2 := startWith(t, func(h *hcmv3.HttpConnectionManager) { keepPorts(h); h.UseRemoteAddress = wrapperspb.Bool(false) },
		xdstest.RouteConfig(port, xdstest.VirtualHost(port, "", redirect("https", prefix("/"), &routev3.RedirectAction{
			SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true},
		}))))
	for _, tt := range []struct{ xfp, host, location string }{
		{"https", "gw.example:443", "https://gw.example:443/x"}, // same scheme: port kept
		{"http", "gw.example:80", "https://gw.example/x"},
	} {
		got := e2.do(t, request{host: tt.host, path: "/x", headers: map[string]string{"X-Forwarded-Proto": tt.xfp}})
		if got.header.Get("Location") != tt.location {
			t.Errorf("x-forwarded-proto %s, host %s: Location %q, want %q", tt.xfp, tt.host, got.header.Get("Location"), tt.location)
		}
	}
}

// Direct responses as Envoy Gateway emits them (http-route-direct-response
// golden): body_format text_format_source, the content type from the
// route's response headers, no body (and no content type) without one.
func TestDirectResponses(t *testing.T) {
	direct := func(name, p string, status uint32, body *corev3.DataSource, format *corev3.SubstitutionFormatString, headers ...*corev3.HeaderValueOption) *routev3.Route {
		return &routev3.Route{Name: name, Match: sepPrefix(p), ResponseHeadersToAdd: headers,
			Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: status, Body: body, BodyFormat: format}}}
	}
	source := func(b string) *corev3.SubstitutionFormatString {
		return &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &corev3.DataSource{
			Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte(b)}}}}
	}
	ct := func(v string) *corev3.HeaderValueOption { return hv("Content-Type", v, overwriteOrAdd) }
	vh := xdstest.VirtualHost(port, "",
		direct("inline", "/inline", 200, nil, source("OK"), ct("text/plain")),
		direct("json", "/json", 502, nil, source(`{"error": "Internal Server Error"}`), ct("application/json"), hv("X-Add-Header", "added-502", appendOrAdd)),
		direct("value-ref-not-found", "/empty", 500, nil, nil, ct("application/json")),
		direct("local-body", "/local", 503, &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "down"}},
			&corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormat{TextFormat: "100%% [%LOCAL_REPLY_BODY%]"}, ContentType: "text/html"}),
		direct("moved", "/moved", 301, nil, nil),
		direct("created", "/created", 201, &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "made"}}, nil),
	)
	rc := xdstest.RouteConfig(port, vh)
	rc.MaxDirectResponseBodySizeBytes = wrapperspb.UInt32(1048576)
	e := startWith(t, noop, rc)
	tests := []struct {
		path            string
		status          int
		body, ctype, lo string
	}{
		{"/inline", 200, "OK", "text/plain", ""},
		{"/json", 502, `{"error": "Internal Server Error"}`, "application/json", ""},
		{"/empty", 500, "", "", ""}, // no body: prepareLocalReply drops content-type
		{"/local", 503, "100% [down]", "text/html", ""},
		{"/moved?x=1", 301, "", "", "http://h/moved?x=1"}, // a 3xx direct response's Location is the request's URI
		{"/created", 201, "made", "text/plain", "http://h/created"},
	}
	for _, tt := range tests {
		got := e.do(t, request{host: "h", path: tt.path})
		if got.status != tt.status || got.body != tt.body || got.header.Get("Content-Type") != tt.ctype || got.header.Get("Location") != tt.lo {
			t.Errorf("%s -> %d %q %v, want %d %q content-type %q location %q", tt.path, got.status, got.body, got.header, tt.status, tt.body, tt.ctype, tt.lo)
		}
	}
	if got := e.do(t, request{host: "h", path: "/json"}); got.header.Get("X-Add-Header") != "added-502" || got.header.Get("Server") != "envoy" {
		t.Errorf("direct response headers %v", got.header)
	}
}

// Request and response header mutations at the three levels, in Envoy's
// order (the route configuration's win unless
// most_specific_header_mutations_wins), with every append_action, on
// upstream responses and on local replies of a matched route.
func TestHeaderMutations(t *testing.T) {
	build := func(mostSpecific bool) *routev3.RouteConfiguration {
		r := xdstest.PrefixRoute("anything", "/anything", clusterName)
		r.RequestHeadersToAdd = []*corev3.HeaderValueOption{
			hv("x-level", "route", overwriteOrAdd),
			hv("x-append", "route", appendOrAdd),
			hv("x-absent", "route", addIfAbsent),
			hv("x-present", "route", addIfAbsent),
			hv("x-overwrite", "route", overwriteOrAdd),
			hv("x-if-exists", "route", overwriteIf),
			hv("x-if-exists-present", "route", overwriteIf),
			hv("user-agent", "route", appendOrAdd), // inline: joined
			{Header: &corev3.HeaderValue{Key: "x-empty"}, AppendAction: overwriteOrAdd, KeepEmptyValue: true},
			{Header: &corev3.HeaderValue{Key: "x-dropped-empty"}, AppendAction: overwriteOrAdd},
			{Header: &corev3.HeaderValue{Key: "x-legacy", Value: "route"}, Append: wrapperspb.Bool(false)},
		}
		r.RequestHeadersToRemove = []string{"x-remove"}
		r.ResponseHeadersToAdd = []*corev3.HeaderValueOption{hv("x-up", "route", overwriteOrAdd), hv("x-resp-level", "route", overwriteOrAdd)}
		r.ResponseHeadersToRemove = []string{"x-remove"}
		empty := xdstest.PrefixRoute("empty", "/empty", "kube_ns_empty_8000")
		empty.ResponseHeadersToAdd = []*corev3.HeaderValueOption{hv("x-local", "route", appendOrAdd)}
		keyed := xdstest.PrefixRoute("keyed", "/keyed", clusterName)
		keyed.ResponseHeadersToAdd = []*corev3.HeaderValueOption{hv("x-local", "route", appendOrAdd)}
		keyed.TypedPerFilterConfig = map[string]*anypb.Any{apikeyauth.FilterName: xdstest.APIKeyAuth(t, map[string]string{"client1": "k-1"}, false, "", "header:api-key")}
		vh := xdstest.VirtualHost(port, "", r, empty, keyed)
		vh.RequestHeadersToAdd = []*corev3.HeaderValueOption{hv("x-level", "vhost", overwriteOrAdd)}
		vh.ResponseHeadersToAdd = []*corev3.HeaderValueOption{hv("x-resp-level", "vhost", overwriteOrAdd)}
		rc := xdstest.RouteConfig(port, vh)
		rc.RequestHeadersToAdd = []*corev3.HeaderValueOption{hv("x-level", "config", overwriteOrAdd)}
		rc.ResponseHeadersToAdd = []*corev3.HeaderValueOption{hv("x-resp-level", "config", overwriteOrAdd)}
		rc.MostSpecificHeaderMutationsWins = mostSpecific
		return rc
	}
	e := startWith(t, noop, build(false),
		xdstest.Cluster("kube_ns_empty_8000"), xdstest.Endpoints(t, "kube_ns_empty_8000"))
	got := e.do(t, request{host: "h", path: "/anything", headers: map[string]string{
		"X-Append": "client", "X-Present": "client", "X-Overwrite": "client", "X-If-Exists-Present": "client",
		"User-Agent": "client", "X-Remove": "client", "X-Legacy": "client",
	}})
	want := map[string][]string{
		"X-Level":             {"config"},
		"X-Append":            {"client", "route"},
		"X-Absent":            {"route"},
		"X-Present":           {"client"},
		"X-Overwrite":         {"route"},
		"X-If-Exists":         nil,
		"X-If-Exists-Present": {"route"},
		"User-Agent":          {"client,route"},
		"X-Empty":             {""},
		"X-Dropped-Empty":     nil,
		"X-Legacy":            {"route"},
		"X-Remove":            nil,
	}
	for name, values := range want {
		if g := got.echoed.Headers[name]; strings.Join(g, "|") != strings.Join(values, "|") || (values == nil) != (g == nil) {
			t.Errorf("upstream %s = %q, want %q", name, g, values)
		}
	}
	if got.header.Get("X-Up") != "route" || got.header.Get("X-Resp-Level") != "config" {
		t.Errorf("response headers %v", got.header)
	}
	// Local replies of a matched route carry its response headers: the
	// router's (no healthy upstream) and an http filter's (api_key_auth).
	if got := e.do(t, request{host: "h", path: "/empty"}); got.status != 503 || got.header.Get("X-Local") != "route" {
		t.Errorf("no healthy upstream -> %d %v, want the route's x-local", got.status, got.header)
	}
	if got := e.do(t, request{host: "h", path: "/keyed"}); got.status != 401 || got.header.Get("X-Local") != "route" {
		t.Errorf("api_key_auth 401 -> %d %v, want the route's x-local", got.status, got.header)
	}
	if got := e.do(t, request{host: "h", path: "/nothing"}); got.status != 404 || got.header.Get("X-Resp-Level") != "" {
		t.Errorf("no route -> %d %v: no route, no route headers", got.status, got.header)
	}

	// most_specific_header_mutations_wins: the route's win.
	e2 := startWith(t, noop, build(true), xdstest.Cluster("kube_ns_empty_8000"), xdstest.Endpoints(t, "kube_ns_empty_8000"))
	got = e2.do(t, request{host: "h", path: "/anything"})
	if v := got.echoed.header("X-Level"); v != "route" {
		t.Errorf("most specific wins: upstream x-level %q", v)
	}
	if v := got.header.Get("X-Resp-Level"); v != "route" {
		t.Errorf("most specific wins: response x-resp-level %q", v)
	}
}

// Upstream response headers: the route's mutations apply to what the
// upstream sent.
func TestResponseHeaderMutationsOnUpstreamResponses(t *testing.T) {
	r := xdstest.PrefixRoute("all", "/", clusterName)
	r.ResponseHeadersToAdd = []*corev3.HeaderValueOption{hv("x-up", "route", overwriteOrAdd), hv("x-add", "route", appendOrAdd), hv("x-new", "route", addIfAbsent)}
	r.ResponseHeadersToRemove = []string{"x-remove"}
	e := startWith(t, noop, xdstest.RouteConfig(port, xdstest.VirtualHost(port, "", r)))
	got := e.do(t, request{host: "h", path: "/response-headers?X-Up=upstream&X-Remove=upstream&X-Add=upstream"})
	if got.header.Get("X-Up") != "route" || got.header.Get("X-Remove") != "" || strings.Join(got.header.Values("X-Add"), "|") != "upstream|route" || got.header.Get("X-New") != "route" {
		t.Errorf("response headers %v", got.header)
	}
}

// URL rewrites as Envoy Gateway emits them (http-route-rewrite-* goldens).
func TestURLRewrites(t *testing.T) {
	host := func(r *routev3.Route, f func(*routev3.RouteAction)) *routev3.Route {
		f(r.GetRoute())
		return r
	}
	vh := xdstest.VirtualHost(port, "",
		routeTo("prefix", sepPrefix("/origin"), &routev3.RouteAction{PrefixRewrite: "/anything/rewrite"}),
		routeTo("root", sepPrefix("/root"), &routev3.RouteAction{RegexRewrite: regexSub(`^/root/\/*`, "/anything/")}),
		routeTo("groups", sepPrefix("/service"), &routev3.RouteAction{RegexRewrite: regexSub(`^/service/([^/]+)(/.*)$`, `/anything\2/instance/\1`)}),
		routeTo("empty-result", sepPrefix("/anything/gone"), &routev3.RouteAction{RegexRewrite: regexSub(`^/.*$`, "")}),
		routeTo("full", sepPrefix("/full"), &routev3.RouteAction{RegexRewrite: regexSub(`^/.*$`, "/anything/rewrite")}),
		host(routeTo("literal", sepPrefix("/literal"), &routev3.RouteAction{PrefixRewrite: "/anything/rewrite"}), func(a *routev3.RouteAction) {
			a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: "3.3.3.3"}
			a.AppendXForwardedHost = true
		}),
		host(routeTo("header", sepPrefix("/anything/host-header"), &routev3.RouteAction{}), func(a *routev3.RouteAction) {
			a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteHeader{HostRewriteHeader: "foo"}
		}),
		host(routeTo("path-regex", sepPrefix("/anything/node"), &routev3.RouteAction{}), func(a *routev3.RouteAction) {
			a.HostRewriteSpecifier = &routev3.RouteAction_HostRewritePathRegex{HostRewritePathRegex: regexSub(`^/anything/node/([0-9]+)/api.*`, `backend-\1.service.namespace.svc.cluster.local`)}
		}),
		&routev3.Route{Name: "weighted", Match: sepPrefix("/anything/weighted"), Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{{
				Name: clusterName, Weight: wrapperspb.UInt32(1),
				HostRewriteSpecifier:   &routev3.WeightedCluster_ClusterWeight_HostRewriteLiteral{HostRewriteLiteral: "backend-1.example.com"},
				RequestHeadersToAdd:    []*corev3.HeaderValueOption{hv("x-cluster", "cluster", overwriteOrAdd), hv("x-both", "cluster", overwriteOrAdd)},
				ResponseHeadersToAdd:   []*corev3.HeaderValueOption{hv("x-cluster", "cluster", overwriteOrAdd)},
				RequestHeadersToRemove: []string{"x-gone"},
			}}}},
		}}, RequestHeadersToAdd: []*corev3.HeaderValueOption{hv("x-both", "route", appendOrAdd)}},
	)
	e := startWith(t, noop, xdstest.RouteConfig(port, vh))
	tests := []struct {
		path     string
		headers  map[string]string
		url      string
		original string // x-envoy-original-path
		extra    map[string]string
	}{
		{"/origin/foo?x=1", nil, "http://h/anything/rewrite/foo?x=1", "/origin/foo?x=1", nil},
		{"/origin", nil, "http://h/anything/rewrite", "/origin", nil},
		{"/root/foo", nil, "http://h/anything/foo", "/root/foo", nil},
		{"/service/foo/v1/api?q", nil, "http://h/anything/v1/api/instance/foo?q", "/service/foo/v1/api?q", nil},
		{"/anything/gone/x", nil, "http://h/anything/gone/x", "", nil}, // an empty result leaves the path
		{"/full/x?y", nil, "http://h/anything/rewrite?y", "/full/x?y", nil},
		{"/literal/a", map[string]string{"X-Forwarded-Host": "first"}, "http://3.3.3.3/anything/rewrite/a", "/literal/a",
			map[string]string{"X-Forwarded-Host": "first,h", "X-Envoy-Original-Host": "h"}},
		{"/anything/host-header", map[string]string{"Foo": "from-header"}, "http://from-header/anything/host-header", "", map[string]string{"X-Envoy-Original-Host": "h"}},
		{"/anything/host-header", nil, "http://h/anything/host-header", "", map[string]string{"X-Envoy-Original-Host": ""}},
		{"/anything/node/42/api/x", nil, "http://backend-42.service.namespace.svc.cluster.local/anything/node/42/api/x", "", map[string]string{"X-Forwarded-Host": ""}},
		{"/anything/weighted", map[string]string{"X-Gone": "1"}, "http://backend-1.example.com/anything/weighted", "",
			map[string]string{"X-Cluster": "cluster", "X-Both": "cluster,route", "X-Gone": "", "X-Envoy-Original-Host": ""}},
	}
	for _, tt := range tests {
		got := e.do(t, request{host: "h", path: tt.path, headers: tt.headers})
		if got.status != 200 {
			t.Errorf("%s -> %d %q", tt.path, got.status, got.body)
			continue
		}
		if got.echoed.URL != tt.url || got.echoed.header("X-Envoy-Original-Path") != tt.original {
			t.Errorf("%s -> upstream %s (original path %q), want %s (%q)", tt.path, got.echoed.URL, got.echoed.header("X-Envoy-Original-Path"), tt.url, tt.original)
		}
		for k, v := range tt.extra {
			if g := got.echoed.header(k); g != v {
				t.Errorf("%s: upstream %s = %q, want %q", tt.path, k, g, v)
			}
		}
	}
	if got := e.do(t, request{host: "h", path: "/anything/weighted"}); got.header.Get("X-Cluster") != "cluster" {
		t.Errorf("weighted cluster response headers %v", got.header)
	}

	// Envoy Gateway's router suppresses Envoy's headers: no
	// x-envoy-original-path or -host.
	e2 := startWith(t, suppressEnvoyHeaders(t), xdstest.RouteConfig(port, vh))
	got := e2.do(t, request{host: "h", path: "/literal/a"})
	if got.echoed.URL != "http://3.3.3.3/anything/rewrite/a" || got.echoed.header("X-Envoy-Original-Path") != "" || got.echoed.header("X-Envoy-Original-Host") != "" {
		t.Errorf("suppressed: %s %v", got.echoed.URL, got.echoed.Headers)
	}
}

// auto_host_rewrite sets the host to the picked endpoint's hostname
// (UpstreamRequest::onPoolReady), and leaves it without one.
func TestAutoHostRewrite(t *testing.T) {
	r := routeTo("auto", prefix("/"), &routev3.RouteAction{
		HostRewriteSpecifier: &routev3.RouteAction_AutoHostRewrite{AutoHostRewrite: wrapperspb.Bool(true)}, AppendXForwardedHost: true,
	})
	named := xdstest.Endpoints(t, clusterName, podAddr)
	named.Endpoints[0].LbEndpoints[0].GetEndpoint().Hostname = "httpbin.internal"
	e := newEnv(t)
	e.start(t, xdstest.Listener(t, port), xdstest.RouteConfig(port, xdstest.VirtualHost(port, "", r)), xdstest.Cluster(clusterName), named)
	got := e.do(t, request{host: "h", path: "/anything"})
	if got.echoed.URL != "http://httpbin.internal/anything" || got.echoed.header("X-Forwarded-Host") != "h" || got.echoed.header("X-Envoy-Original-Host") != "" {
		t.Errorf("auto host rewrite: %s %v", got.echoed.URL, got.echoed.Headers)
	}
	e.xds.Set(t, nodeID, "2", xdstest.Listener(t, port), xdstest.RouteConfig(port, xdstest.VirtualHost(port, "", r)), xdstest.Cluster(clusterName),
		&endpointv3.ClusterLoadAssignment{ClusterName: clusterName, Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: xdstest.SocketAddress(t, podAddr)}}}}}}})
	eventually(t, "the endpoint without hostname", func() error {
		if got := e.do(t, request{host: "h", path: "/anything"}); got.echoed.URL != "http://h/anything" {
			return fmt.Errorf("upstream URL %s", got.echoed.URL)
		}
		return nil
	})
}

// Cookie matches as Envoy Gateway emits them (http-route golden).
func TestCookieMatches(t *testing.T) {
	cookies := &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}, Cookies: []*routev3.CookieMatcher{
		{Name: "cookie-1", StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "xxx"}}},
		{Name: "cookie-2", StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "foo.*"}}}},
	}}
	inverted := &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}, Cookies: []*routev3.CookieMatcher{
		{Name: "beta", InvertMatch: true, StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "on"}}},
	}}
	e := startWith(t, noop, xdstest.RouteConfig(port, xdstest.VirtualHost(port, "",
		direct("cookies", cookies), direct("not-beta", inverted), direct("fallback", prefix("/")))))
	tests := []struct{ cookie, want string }{
		{"cookie-1=xxx; cookie-2=foobar", "cookies"},
		{`cookie-2=foo; cookie-1="xxx"`, "cookies"},             // quoted values are unquoted
		{"cookie-1=xxx; cookie-1=yyy; cookie-2=foo", "cookies"}, // the first of a name wins
		{"cookie-1=yyy; cookie-1=xxx; cookie-2=foo", "not-beta"},
		{"cookie-1=xxx", "not-beta"},
		{"beta=on", "fallback"},
		{"beta=off", "not-beta"},
		{"", "not-beta"},
	}
	for _, tt := range tests {
		h := map[string]string{}
		if tt.cookie != "" {
			h["Cookie"] = tt.cookie
		}
		if got := e.do(t, request{host: "h", path: "/", headers: h}); got.body != tt.want {
			t.Errorf("Cookie %q -> route %q, want %q", tt.cookie, got.body, tt.want)
		}
	}
}

// Route timeouts as Envoy Gateway emits them (http-route-timeout golden):
// idle_timeout and max_stream_duration end a stream with the connection
// manager's local reply before the response starts and reset it after;
// the route timeout runs from the end of the request.
func TestRouteStreamTimers(t *testing.T) {
	ms := func(n int) *durationpb.Duration { return durationpb.New(time.Duration(n) * time.Millisecond) }
	withHeader := func(r *routev3.Route) *routev3.Route {
		r.ResponseHeadersToAdd = []*corev3.HeaderValueOption{hv("x-route", r.Name, overwriteOrAdd)}
		return r
	}
	vh := xdstest.VirtualHost(port, "",
		withHeader(routeTo("idle", sepPrefix("/idle"), &routev3.RouteAction{RegexRewrite: regexSub(`^/[a-z-]+`, ""), Timeout: ms(0), IdleTimeout: ms(300)})),
		withHeader(routeTo("duration", sepPrefix("/duration"), &routev3.RouteAction{RegexRewrite: regexSub(`^/[a-z-]+`, ""), Timeout: ms(0), IdleTimeout: ms(0),
			MaxStreamDuration: &routev3.RouteAction_MaxStreamDuration{MaxStreamDuration: ms(300)}})),
		withHeader(routeTo("no-limits", sepPrefix("/no-limits"), &routev3.RouteAction{RegexRewrite: regexSub(`^/[a-z-]+`, ""), Timeout: ms(0), IdleTimeout: ms(0),
			MaxStreamDuration: &routev3.RouteAction_MaxStreamDuration{MaxStreamDuration: ms(0)}})),
		withHeader(routeTo("timeout", sepPrefix("/timeout"), &routev3.RouteAction{RegexRewrite: regexSub(`^/[a-z-]+`, ""), Timeout: ms(400)})),
	)
	e := startWith(t, noop, xdstest.RouteConfig(port, vh))
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/idle/delay/1", 504, "stream timeout"},
		{"/duration/delay/1", 504, "downstream duration timeout"},
		{"/no-limits/delay/0.6", 200, ""},
		{"/timeout/delay/1", 504, "upstream request timeout"},
	}
	for _, tt := range tests {
		got := e.do(t, request{host: "h", path: tt.path})
		if got.status != tt.status || (tt.body != "" && got.body != tt.body) {
			t.Errorf("%s -> %d %q, want %d %q", tt.path, got.status, got.body, tt.status, tt.body)
		}
		if got.status == 504 && got.header.Get("X-Route") == "" {
			t.Errorf("%s: the timeout's local reply lacks the route's response headers: %v", tt.path, got.header)
		}
	}

	// After the response started, the stream is reset.
	addr, _ := e.proxy.ListenerAddr(port)
	resp, err := http.Get("http://" + addr + "/idle/drip?duration=1&numbytes=2&delay=0")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || err == nil {
		t.Errorf("idle after the response started: %d, body error %v; want 200 then a reset", resp.StatusCode, err)
	}

	// The route timeout starts once the request has been received: a body
	// that takes longer than the timeout to arrive is not cut.
	pr, pw := io.Pipe()
	go func() {
		for range 3 {
			time.Sleep(200 * time.Millisecond)
			_, _ = pw.Write([]byte("chunk"))
		}
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/timeout/anything", pr)
	req.Host = "h"
	resp, err = e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("slow request body -> %d, want 200: the route timeout runs from the end of the request", resp.StatusCode)
	}
}

// Per-route configs of filters the sim does not have are accepted when
// valid (PerFilterConfigs builds them by type), and change nothing.
func TestPerRouteConfigOfOtherFilters(t *testing.T) {
	r := xdstest.PrefixRoute("all", "/", clusterName)
	r.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.rbac": xdstest.Any(t, &rbacv3.RBACPerRoute{})}
	e := startWith(t, noop, xdstest.RouteConfig(port, xdstest.VirtualHost(port, "", r)))
	if got := e.do(t, request{host: "h", path: "/get"}); got.status != 200 {
		t.Errorf("status %d", got.status)
	}
}

// The connection manager's stream_idle_timeout (Envoy Gateway's
// ClientTrafficPolicy timeout, http-route-timeout golden) ends a stream
// idle that long, unless its route's idle_timeout says otherwise
// (conn_manager_impl.cc refreshIdleTimeout: the route's value replaces it,
// 0 disables).
func TestConnectionManagerStreamIdleTimeout(t *testing.T) {
	ms := func(n int) *durationpb.Duration { return durationpb.New(time.Duration(n) * time.Millisecond) }
	vh := xdstest.VirtualHost(port, "",
		routeTo("route-disables", sepPrefix("/off"), &routev3.RouteAction{RegexRewrite: regexSub(`^/[a-z-]+`, ""), Timeout: ms(0), IdleTimeout: ms(0)}),
		routeTo("inherits", sepPrefix("/on"), &routev3.RouteAction{RegexRewrite: regexSub(`^/[a-z-]+`, ""), Timeout: ms(0)}),
	)
	e := startWith(t, func(h *hcmv3.HttpConnectionManager) { h.StreamIdleTimeout = ms(300) }, xdstest.RouteConfig(port, vh))
	for _, tt := range []struct {
		path   string
		status int
		body   string
	}{
		{"/on/delay/1", 504, "stream timeout"},
		{"/off/delay/0.6", 200, ""},
	} {
		if got := e.do(t, request{host: "h", path: tt.path}); got.status != tt.status || (tt.body != "" && got.body != tt.body) {
			t.Errorf("%s -> %d %q, want %d %q", tt.path, got.status, got.body, tt.status, tt.body)
		}
	}
}
