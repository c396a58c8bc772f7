package dataplane

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func vh(name string, domains ...string) *routev3.VirtualHost {
	return &routev3.VirtualHost{Name: name, Domains: domains}
}

// The rejection messages Envoy gives, from source/common/router/
// config_impl.cc (RouteMatcher) and per_filter_config.cc.
func TestRouteConfigurationRejections(t *testing.T) {
	tests := []struct {
		name string
		rc   *routev3.RouteConfiguration
		want string
	}{
		{"two * domains", &routev3.RouteConfiguration{Name: "rc", VirtualHosts: []*routev3.VirtualHost{vh("a", "*"), vh("b", "*")}},
			"Only a single wildcard domain is permitted in route rc"},
		{"duplicate domain", &routev3.RouteConfiguration{Name: "rc", VirtualHosts: []*routev3.VirtualHost{vh("a", "x.com"), vh("b", "X.com")}},
			"Only unique values for domains are permitted. Duplicate entry of domain x.com in route rc"},
		{"duplicate suffix wildcard", &routev3.RouteConfiguration{Name: "rc", VirtualHosts: []*routev3.VirtualHost{vh("a", "*.x.com"), vh("b", "*.x.com")}},
			"Duplicate entry of domain *.x.com"},
		{"FilterConfig without config", &routev3.RouteConfiguration{Name: "rc", TypedPerFilterConfig: map[string]*anypb.Any{
			"f": mustAny(t, &routev3.FilterConfig{})}}, "Empty route/virtual host per filter configuration for f filter"},
		{"unknown per-filter type", &routev3.RouteConfiguration{Name: "rc", TypedPerFilterConfig: map[string]*anypb.Any{
			"f": mustAny(t, &structpb.Struct{})}}, "Didn't find a registered implementation for 'f' with type URL: 'type.googleapis.com/google.protobuf.Struct'"},
		{"unimplemented field", &routev3.RouteConfiguration{Name: "rc", VhostHeader: "x-vhost"},
			"route configuration sets vhost_header (picking the virtual host by another header than :authority), which the sim does not implement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileRouteTable(tt.rc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
	// Optional unknown configs and explicitly enabled filters are accepted.
	ok := &routev3.RouteConfiguration{Name: "rc", TypedPerFilterConfig: map[string]*anypb.Any{
		"opt": mustAny(t, &routev3.FilterConfig{Config: mustAny(t, &structpb.Struct{}), IsOptional: true}),
		"on":  mustAny(t, &routev3.FilterConfig{Config: &anypb.Any{}}),
		"off": mustAny(t, &routev3.FilterConfig{Disabled: true}),
	}}
	rt, err := compileRouteTable(ok)
	if err != nil {
		t.Fatal(err)
	}
	if !rt.filters["off"].disabled || rt.filters["on"].disabled || rt.filters["opt"].config != nil {
		t.Fatalf("per filter entries %+v", rt.filters)
	}
}

func TestHTTPFilterChainRejections(t *testing.T) {
	auth := &hcmv3.HttpFilter{Name: "envoy.filters.http.api_key_auth", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &apikeyv3.ApiKeyAuth{})}}
	router := &hcmv3.HttpFilter{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})}}
	other := &hcmv3.HttpFilter{Name: "cors", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &structpb.Struct{})}}
	optional := &hcmv3.HttpFilter{Name: "cors", IsOptional: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &structpb.Struct{})}}
	tests := []struct {
		name    string
		filters []*hcmv3.HttpFilter
		want    string
	}{
		{"router not last", []*hcmv3.HttpFilter{router, auth}, "Error: terminal filter named envoy.filters.http.router of type envoy.filters.http.router must be the last filter in a http filter chain."},
		{"no router", []*hcmv3.HttpFilter{auth}, "Error: non-terminal filter named envoy.filters.http.api_key_auth of type envoy.filters.http.api_key_auth is the last filter in a http filter chain."},
		{"unimplemented filter", []*hcmv3.HttpFilter{other, router}, `http filter "cors" (type.googleapis.com/google.protobuf.Struct) is not implemented by the sim`},
		{"empty", nil, "no envoy.filters.http.router"},
		{"ok", []*hcmv3.HttpFilter{optional, auth, router}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chain, err := compileHTTPFilters(tt.filters)
			if tt.want == "" {
				if err != nil || len(chain.stages) != 1 {
					t.Fatalf("chain %+v, error %v", chain, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestStripHostPort(t *testing.T) {
	tests := []struct{ in, host, port string }{
		{"example.com:8080", "example.com", "8080"},
		{"example.com", "example.com", ""},
		{"[::1]:80", "[::1]", "80"},
		{"[::1]", "[::1]", ""},
		{"example.com:http", "example.com:http", ""},
	}
	for _, tt := range tests {
		if h, p := stripHostPort(tt.in); h != tt.host || p != tt.port {
			t.Errorf("stripHostPort(%q) = %q, %q", tt.in, h, p)
		}
	}
}
