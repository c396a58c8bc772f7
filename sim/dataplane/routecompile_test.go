package dataplane

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// oneRoute is a route configuration with one route, changed by mutate.
func oneRoute(mutate func(rc *routev3.RouteConfiguration, r *routev3.Route)) *routev3.RouteConfiguration {
	r := &routev3.Route{
		Name:   "r",
		Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "c"}}},
	}
	rc := &routev3.RouteConfiguration{Name: "rc", VirtualHosts: []*routev3.VirtualHost{{Name: "vh", Domains: []string{"*"}, Routes: []*routev3.Route{r}}}}
	mutate(rc, r)
	return rc
}

func action(r *routev3.Route) *routev3.RouteAction { return r.GetRoute() }

func headerOpt(key, value string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: key, Value: value}}
}

// What the sim rejects, naming the field or with Envoy's own message.
func TestRouteFieldRejections(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(rc *routev3.RouteConfiguration, r *routev3.Route)
		want   string
	}{
		{"retry policy", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			action(r).RetryPolicy = &routev3.RetryPolicy{RetryOn: "5xx"}
		}, "virtual_hosts[0].routes[0].route.retry_policy (retries: the sim's router never retries)"},
		{"virtual host retry policy", func(rc *routev3.RouteConfiguration, _ *routev3.Route) {
			rc.VirtualHosts[0].RetryPolicy = &routev3.RetryPolicy{RetryOn: "5xx"}
		}, "virtual_hosts[0].retry_policy"},
		{"mirroring", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			action(r).RequestMirrorPolicies = []*routev3.RouteAction_RequestMirrorPolicy{{Cluster: "m"}}
		}, "route.request_mirror_policies (request mirroring)"},
		{"use_hash_policy", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			action(r).ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{
				Clusters:             []*routev3.WeightedCluster_ClusterWeight{{Name: "c", Weight: wrapperspb.UInt32(1)}},
				RandomValueSpecifier: &routev3.WeightedCluster_UseHashPolicy{UseHashPolicy: wrapperspb.Bool(true)},
			}}
		}, "weighted_clusters sets use_hash_policy"},
		{"weighted cluster per-filter config", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			action(r).ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{
				Clusters: []*routev3.WeightedCluster_ClusterWeight{{Name: "c", Weight: wrapperspb.UInt32(1),
					TypedPerFilterConfig: map[string]*anypb.Any{"f": mustAny(t, &routev3.FilterConfig{})}}},
			}}
		}, "weighted_clusters.clusters[0]: Empty route/virtual host per filter configuration for f filter"},
		{"grpc timeout", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			action(r).MaxStreamDuration = &routev3.RouteAction_MaxStreamDuration{GrpcTimeoutHeaderMax: durationpb.New(1e9)}
		}, "route.max_stream_duration.grpc_timeout_header_max (gRPC timeouts)"},
		{"connect", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			r.Match.PathSpecifier = &routev3.RouteMatch_ConnectMatcher_{ConnectMatcher: &routev3.RouteMatch_ConnectMatcher{}}
		}, "match.connect_matcher (CONNECT routes)"},
		{"header value command", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			r.RequestHeadersToAdd = []*corev3.HeaderValueOption{headerOpt("x-client", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%")}
		}, "the substitution format command %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% is not implemented by the sim"},
		{"header value with a stray %", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			r.ResponseHeadersToAdd = []*corev3.HeaderValueOption{headerOpt("x-pct", "50%")}
		}, "Incorrect configuration: 50%. Couldn't find valid command at position 2"},
		{"pseudo header", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			r.RequestHeadersToAdd = []*corev3.HeaderValueOption{headerOpt(":path", "/x")}
		}, ":-prefixed or host headers may not be modified"},
		{"host removed", func(rc *routev3.RouteConfiguration, _ *routev3.Route) {
			rc.VirtualHosts[0].RequestHeadersToRemove = []string{"Host"}
		}, ":-prefixed or host headers may not be removed"},
		{"append and append_action", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			r.RequestHeadersToAdd = []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x", Value: "y"},
				Append: wrapperspb.Bool(true), AppendAction: corev3.HeaderValueOption_ADD_IF_ABSENT}}
		}, "Both append and append_action are set and it's not allowed"},
		{"raw header value", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			r.RequestHeadersToAdd = []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x", RawValue: []byte("y")}}}
		}, "header.raw_value"},
		{"regex substitution of a missing group", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			action(r).RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: "^/(a)"}, Substitution: `\2`}
		}, "refers to group 2"},
		{"prefix and regex rewrite", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			action(r).PrefixRewrite = "/x"
			action(r).RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: "^/"}, Substitution: "/"}
		}, "Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy"},
		{"path rewrite by format", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			action(r).PathRewrite = "/%REQ(x)%"
		}, "route.path_rewrite (path rewrites by substitution format)"},
		{"validate_clusters", func(rc *routev3.RouteConfiguration, _ *routev3.Route) {
			rc.ValidateClusters = wrapperspb.Bool(true)
		}, "validate_clusters"},
		{"json body format", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			r.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 200,
				BodyFormat: &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: &structpb.Struct{}}}}}
		}, "direct_response.body_format.json_format (JSON body formats)"},
		{"body from a file", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			r.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 200,
				Body: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: "/etc/hosts"}}}}
		}, "direct_response.body.filename (bodies read from files)"},
		{"body format command", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			r.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 200,
				BodyFormat: &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormat{TextFormat: "%START_TIME%"}}}}
		}, "%START_TIME% is not implemented by the sim"},
		{"body too large", func(rc *routev3.RouteConfiguration, r *routev3.Route) {
			rc.MaxDirectResponseBodySizeBytes = wrapperspb.UInt32(2)
			r.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 200,
				Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "abc"}}}}
		}, "response body size is 3 bytes; maximum is 2"},
		{"content type twice", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			r.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 200,
				BodyFormat: &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormat{TextFormat: "x"}, ContentType: "text/html"}}}
			r.ResponseHeadersToAdd = []*corev3.HeaderValueOption{headerOpt("content-type", "text/plain")}
		}, "in which order Envoy applies the two"},
		{"duplicate upgrade", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			action(r).UpgradeConfigs = []*routev3.RouteAction_UpgradeConfig{{UpgradeType: "websocket"}, {UpgradeType: "WebSocket"}}
		}, "Duplicate upgrade WebSocket"},
		{"invalid per-route config of another filter", func(_ *routev3.RouteConfiguration, r *routev3.Route) {
			r.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.jwt_authn": mustAny(t, &jwtauthnv3.PerRouteConfig{})}
		}, "per filter config envoy.filters.http.jwt_authn: invalid PerRouteConfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileRouteTable(oneRoute(tt.mutate))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// Fields accepted without effect, and per-route configs of filters the sim
// does not have.
func TestRouteFieldsAccepted(t *testing.T) {
	rc := oneRoute(func(rc *routev3.RouteConfiguration, r *routev3.Route) {
		a := action(r)
		a.HashPolicy = []*routev3.RouteAction_HashPolicy{{PolicySpecifier: &routev3.RouteAction_HashPolicy_Header_{Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: "x"}}}}
		a.Priority = corev3.RoutingPriority_HIGH
		r.Metadata = &corev3.Metadata{}
		r.StatPrefix = "s"
		rc.VirtualHosts[0].VirtualClusters = []*routev3.VirtualCluster{{Name: "vc", Headers: []*routev3.HeaderMatcher{{Name: "x"}}}}
		r.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.jwt_authn": mustAny(t, &jwtauthnv3.PerRouteConfig{
			RequirementSpecifier: &jwtauthnv3.PerRouteConfig_Disabled{Disabled: true}})}
	})
	tbl, err := compileRouteTable(rc)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := tbl.routes[0].filters["envoy.filters.http.jwt_authn"]; !ok || e.disabled || e.config != nil {
		t.Fatalf("per filter entry %+v %v", e, ok)
	}
}

func TestProcessRequestHost(t *testing.T) {
	tests := []struct{ host, xfp, scheme, port, want string }{
		{"a.com:80", "http", "https", "", "a.com"},
		{"a.com:80", "http", "http", "", "a.com:80"},
		{"a.com:443", "https", "http", "", "a.com"},
		{"a.com:443", "HTTPS", "http", "", "a.com"},
		{"a.com:8080", "http", "https", "", "a.com:8080"},
		{"a.com:8080", "http", "http", ":9090", "a.com"},
		{"a.com", "http", "https", ":9090", "a.com"},
		{"[::1]:80", "http", "https", "", "[::1]"},
		{"[::1]", "http", "https", ":1", "[::1]"},
		{"", "http", "https", "", ""},
	}
	for _, tt := range tests {
		if got := processRequestHost(tt.host, tt.xfp, tt.scheme, tt.port); got != tt.want {
			t.Errorf("processRequestHost(%q, %q, %q, %q) = %q, want %q", tt.host, tt.xfp, tt.scheme, tt.port, got, tt.want)
		}
	}
}

func TestParseCookies(t *testing.T) {
	got := parseCookies([]string{`a=1; b="2"; c; =x; d=e=f;e =sp ; a=9`, "f=6"})
	want := map[string]string{"a": "1", "b": "2", "": "x", "d": "e=f", "e ": "sp ", "f": "6"}
	if len(got) != len(want) {
		t.Fatalf("parseCookies = %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("cookie %q = %q, want %q", k, got[k], v)
		}
	}
}

func TestFormatString(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"plain", []string{"plain"}, ""},
		{"100%%", []string{"100%"}, ""},
		{"a%LOCAL_REPLY_BODY%b", []string{"a", "LOCAL_REPLY_BODY", "b"}, ""},
		{"%REQ(x-y):10%", []string{"", "REQ(x-y):10", ""}, ""},
		{"%", nil, "Couldn't find valid command at position 0"},
		{"%lower%", nil, "Couldn't find valid command at position 0"},
		{"", []string{""}, ""},
	}
	for _, tt := range tests {
		got, err := formatString(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("formatString(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("formatString(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestRE2Substitution(t *testing.T) {
	tests := []struct{ pattern, sub, in, want string }{
		{`^/service/([^/]+)(/.*)$`, `\2/instance/\1`, "/service/foo/v1/api", "/v1/api/instance/foo"},
		{`o`, `$0\\`, "foo", `f$0\$0\`},
		{`x*`, `-`, "abc", "-a-b-c-"},
	}
	for _, tt := range tests {
		rw, err := compileRegexRewrite(&matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: tt.pattern}, Substitution: tt.sub})
		if err != nil {
			t.Fatal(err)
		}
		if got := rw.replaceAll(tt.in); got != tt.want {
			t.Errorf("%q -> %q on %q = %q, want %q", tt.pattern, tt.sub, tt.in, got, tt.want)
		}
	}
	if _, err := re2Template(`\x`, 0); err == nil {
		t.Error(`\x accepted`)
	}
}

// HeaderParser::evaluateHeaders: removals first, additions decided on the
// headers before any of them, overwrites before appends, inline headers
// joined.
func TestHeaderMutationsApply(t *testing.T) {
	m, err := compileHeaderMutations([]*corev3.HeaderValueOption{
		{Header: &corev3.HeaderValue{Key: "x-a", Value: "1"}, AppendAction: corev3.HeaderValueOption_ADD_IF_ABSENT},
		{Header: &corev3.HeaderValue{Key: "x-a", Value: "2"}, AppendAction: corev3.HeaderValueOption_ADD_IF_ABSENT},
		{Header: &corev3.HeaderValue{Key: "x-b", Value: "new"}, AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD},
		{Header: &corev3.HeaderValue{Key: "x-b", Value: "set"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD},
		{Header: &corev3.HeaderValue{Key: "x-forwarded-for", Value: "9.9.9.9"}},
		{Header: &corev3.HeaderValue{Key: "x-gone", Value: "back"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS},
	}, []string{"x-gone"})
	if err != nil {
		t.Fatal(err)
	}
	hdr := http.Header{"X-B": {"old"}, "X-Forwarded-For": {"1.1.1.1", "2.2.2.2"}, "X-Gone": {"x"}}
	m.apply(hdr, inlineRequestHeaders)
	want := http.Header{"X-A": {"1", "2"}, "X-B": {"set", "new"}, "X-Forwarded-For": {"1.1.1.1,2.2.2.2,9.9.9.9"}}
	if len(hdr) != len(want) {
		t.Fatalf("headers %v, want %v", hdr, want)
	}
	for k, v := range want {
		if strings.Join(hdr[k], "|") != strings.Join(v, "|") {
			t.Errorf("%s = %q, want %q", k, hdr[k], v)
		}
	}
}

func TestNewURI(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/a/b?q=1", nil)
	r.Host = "h.example:8080"
	r.Header.Set("X-Forwarded-Proto", "http")
	tests := []struct {
		rd   routeRedirect
		path string
		want string
	}{
		{routeRedirect{}, "/a/b?q=1", "http://h.example:8080/a/b?q=1"},
		{routeRedirect{scheme: "https", https: false}, "/a", "https://h.example:8080/a"},
		{routeRedirect{https: true, scheme: "ftp"}, "/a", "ftp://h.example:8080/a"}, // scheme_redirect wins
		{routeRedirect{host: "new.example", port: ":1"}, "/a", "http://new.example:1/a"},
		{routeRedirect{path: "rel"}, "/a?q", "http://h.example:8080/rel?q"},
		{routeRedirect{stripQuery: true}, "/a?q", "http://h.example:8080/a"},
	}
	for _, tt := range tests {
		if got := tt.rd.newURI(r, tt.path); got != tt.want {
			t.Errorf("%+v newURI(%q) = %q, want %q", tt.rd, tt.path, got, tt.want)
		}
	}
}
