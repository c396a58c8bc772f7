package xdstest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Snapshot groups resources by type into a consistent snapshot.
func Snapshot(t testing.TB, version string, resources ...types.Resource) *cachev3.Snapshot {
	t.Helper()
	byType := map[resource.Type][]types.Resource{}
	for _, r := range resources {
		typeURL := resource.APITypePrefix + string(proto.MessageName(r))
		byType[typeURL] = append(byType[typeURL], r)
	}
	snap, err := cachev3.NewSnapshot(version, byType)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// Any packs m, failing the test on error.
func Any(t testing.TB, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// ListenerName is the translator's listener name for a Gateway port.
func ListenerName(port uint32) string { return fmt.Sprintf("listener~%d", port) }

// Listener is a Listener for a Gateway port in the translator's manner:
// 0.0.0.0:port, one HCM (stat_prefix http, use_remote_address) with RDS
// over ADS, and the http filters [api_key_auth (empty, disabled), router].
// It strips any port from Host (strip_any_host_port), which the translator
// no longer does (its route configurations ignore the port in matching
// instead): the sim's tests of host matching and of the Host sent upstream
// are written against this one.
func Listener(t testing.TB, port uint32, mutate ...func(*hcmv3.HttpConnectionManager)) *listenerv3.Listener {
	t.Helper()
	name := ListenerName(port)
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix:       "http",
		StripPortMode:    &hcmv3.HttpConnectionManager_StripAnyHostPort{StripAnyHostPort: true},
		UseRemoteAddress: wrapperspb.Bool(true),
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			RouteConfigName: name,
			ConfigSource: &corev3.ConfigSource{
				ResourceApiVersion:    corev3.ApiVersion_V3,
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			},
		}},
		HttpFilters: []*hcmv3.HttpFilter{
			{
				Name:       "envoy.filters.http.api_key_auth",
				ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: Any(t, &apikeyv3.ApiKeyAuth{})},
				Disabled:   true,
			},
			{
				Name:       "envoy.filters.http.router",
				ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: Any(t, &routerv3.Router{})},
			},
		},
	}
	for _, m := range mutate {
		m(hcm)
	}
	return &listenerv3.Listener{
		Name: name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
		}}},
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       "envoy.filters.network.http_connection_manager",
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: Any(t, hcm)},
			}},
		}},
	}
}

// RouteConfig is a RouteConfiguration named like its listener.
func RouteConfig(port uint32, vhosts ...*routev3.VirtualHost) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{Name: ListenerName(port), VirtualHosts: vhosts}
}

// VirtualHost is the translator's virtual host for one hostname ("" means *).
func VirtualHost(port uint32, hostname string, routes ...*routev3.Route) *routev3.VirtualHost {
	domain := hostname
	if domain == "" {
		domain = "*"
	}
	return &routev3.VirtualHost{
		Name:    ListenerName(port) + "~" + domain,
		Domains: []string{domain},
		Routes:  routes,
	}
}

// PrefixRoute routes a path prefix to a cluster.
func PrefixRoute(name, prefix, cluster string) *routev3.Route {
	return &routev3.Route{
		Name:   name,
		Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}},
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster}}},
	}
}

// DirectResponse answers a path prefix with a fixed status and body.
func DirectResponse(name, prefix string, status uint32, body string) *routev3.Route {
	return &routev3.Route{
		Name:  name,
		Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}},
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
			Status: status,
			Body:   &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: body}},
		}},
	}
}

// Cluster is the translator's EDS cluster: round robin, connect_timeout 5s.
func Cluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		ConnectTimeout:       durationpb.New(5 * time.Second),
		LbPolicy:             clusterv3.Cluster_ROUND_ROBIN,
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
			ResourceApiVersion:    corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		}},
	}
}

// Endpoints is a ClusterLoadAssignment with one locality of IP:port
// endpoints (virtual pod addresses).
func Endpoints(t testing.TB, cluster string, addrs ...string) *endpointv3.ClusterLoadAssignment {
	t.Helper()
	var lbs []*endpointv3.LbEndpoint
	for _, a := range addrs {
		lbs = append(lbs, &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
			Address: SocketAddress(t, a),
		}}})
	}
	return &endpointv3.ClusterLoadAssignment{
		ClusterName: cluster,
		Endpoints:   []*endpointv3.LocalityLbEndpoints{{LbEndpoints: lbs}},
	}
}

// SocketAddress builds a core Address from "IP:port".
func SocketAddress(t testing.TB, hostport string) *corev3.Address {
	t.Helper()
	var ip string
	var port uint32
	host, p, ok := cutLast(hostport, ":")
	if !ok {
		t.Fatalf("address %q: want IP:port", hostport)
	}
	if _, err := fmt.Sscan(p, &port); err != nil {
		t.Fatalf("address %q: %v", hostport, err)
	}
	ip = host
	if len(ip) > 1 && ip[0] == '[' {
		ip = ip[1 : len(ip)-1]
	}
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

func cutLast(s, sep string) (string, string, bool) {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return "", "", false
}

// APIKeyAuth is a per-route api_key_auth config with header/query/cookie
// sources given as "header:api-key", "query:api_key", "cookie:k".
func APIKeyAuth(t testing.TB, creds map[string]string, hide bool, clientHeader string, sources ...string) *anypb.Any {
	t.Helper()
	cfg := &apikeyv3.ApiKeyAuthPerRoute{}
	for _, client := range slices.Sorted(maps.Keys(creds)) {
		cfg.Credentials = append(cfg.Credentials, &apikeyv3.Credential{Key: creds[client], Client: client})
	}
	for _, s := range sources {
		kind, name, ok := cutLast(s, ":")
		if !ok {
			t.Fatalf("key source %q: want kind:name", s)
		}
		src := &apikeyv3.KeySource{}
		switch kind {
		case "header":
			src.Header = name
		case "query":
			src.Query = name
		case "cookie":
			src.Cookie = name
		default:
			t.Fatalf("key source kind %q", kind)
		}
		cfg.KeySources = append(cfg.KeySources, src)
	}
	if hide || clientHeader != "" {
		cfg.Forwarding = &apikeyv3.Forwarding{HideCredentials: hide, Header: clientHeader}
	}
	return Any(t, cfg)
}

// DisabledFilter is the per-route FilterConfig{disabled: true}.
func DisabledFilter(t testing.TB) *anypb.Any {
	t.Helper()
	return Any(t, &routev3.FilterConfig{Disabled: true})
}

// EGCluster is a cluster as Envoy Gateway v1.9 emits it for a route rule
// (its translator's golden http-route.clusters.yaml): EDS over ADS, its
// connect timeout (10s), buffer limit, retry circuit breaker, DNS family
// and health settings, and policyName with policy as its
// load_balancing_policy.
func EGCluster(t testing.TB, name, policyName string, policy proto.Message) *clusterv3.Cluster {
	t.Helper()
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{
			EdsConfig: &corev3.ConfigSource{
				ResourceApiVersion:    corev3.ApiVersion_V3,
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			},
			ServiceName: name,
		},
		ConnectTimeout:                durationpb.New(10 * time.Second),
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(32768),
		CircuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{
			{MaxRetries: wrapperspb.UInt32(1024)},
		}},
		CommonLbConfig:            &clusterv3.Cluster_CommonLbConfig{},
		DnsLookupFamily:           clusterv3.Cluster_V4_PREFERRED,
		IgnoreHealthOnHostRemoval: true,
		LoadBalancingPolicy: &clusterv3.LoadBalancingPolicy{Policies: []*clusterv3.LoadBalancingPolicy_Policy{{
			TypedExtensionConfig: &corev3.TypedExtensionConfig{Name: policyName, TypedConfig: Any(t, policy)},
		}}},
	}
}
