package xds

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net"
	"slices"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"k8s.io/apimachinery/pkg/types"

	"github.com/keyconform/keyconform/controller/translate"
	"github.com/keyconform/keyconform/internal/logcapture"
)

const apiKeyAuthFilter = "envoy.filters.http.api_key_auth"

// proxyFixture builds a proxy shaped as the shared conventions say: one
// listener on port 8080 with the api_key_auth filter disabled by default,
// one route carrying per-route credentials, one EDS cluster.
type proxyFixture struct {
	gateway types.NamespacedName
	// credentials maps client id to key.
	credentials map[string]string
	timeout     time.Duration
	endpointIP  string
}

func newFixture(ns, name string) proxyFixture {
	return proxyFixture{
		gateway:     types.NamespacedName{Namespace: ns, Name: name},
		credentials: map[string]string{"client1": "k-123", "client2": "k-456"},
		timeout:     5 * time.Second,
		endpointIP:  "10.244.0.7",
	}
}

const (
	listenerName = "listener~8080"
	clusterName  = "kube_default_httpbin_8000"
)

func (f proxyFixture) proxy(t testing.TB) translate.Proxy {
	t.Helper()
	return translate.Proxy{
		Gateway:   f.gateway,
		NodeID:    translate.NodeID(f.gateway),
		Listeners: []*listenerv3.Listener{f.listener(t, listenerName)},
		Routes:    []*routev3.RouteConfiguration{f.route(t)},
		Clusters:  []*clusterv3.Cluster{f.cluster()},
		Endpoints: []*endpointv3.ClusterLoadAssignment{f.endpoints()},
	}
}

func (f proxyFixture) listener(t testing.TB, routeConfig string) *listenerv3.Listener {
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: "http",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			RouteConfigName: routeConfig,
			ConfigSource: &corev3.ConfigSource{
				ResourceApiVersion:    corev3.ApiVersion_V3,
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			},
		}},
		StripPortMode: &hcmv3.HttpConnectionManager_StripAnyHostPort{StripAnyHostPort: true},
		HttpFilters: []*hcmv3.HttpFilter{
			{Name: apiKeyAuthFilter, Disabled: true, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &apikeyauthv3.ApiKeyAuth{})}},
			{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})}},
		},
	}
	return &listenerv3.Listener{
		Name: listenerName,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080},
		}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name:       "envoy.filters.network.http_connection_manager",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm)},
		}}}},
	}
}

func (f proxyFixture) route(t testing.TB) *routev3.RouteConfiguration {
	perRoute := &apikeyauthv3.ApiKeyAuthPerRoute{
		KeySources: []*apikeyauthv3.KeySource{{Header: "api-key"}},
		Forwarding: &apikeyauthv3.Forwarding{HideCredentials: true},
	}
	// Sorted, as the translator emits them: list order is content.
	for _, client := range slices.Sorted(maps.Keys(f.credentials)) {
		perRoute.Credentials = append(perRoute.Credentials, &apikeyauthv3.Credential{Client: client, Key: f.credentials[client]})
	}
	return &routev3.RouteConfiguration{
		Name: listenerName,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:    listenerName + "~www.example.com",
			Domains: []string{"www.example.com"},
			Routes: []*routev3.Route{{
				Match:                &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action:               &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: clusterName}}},
				TypedPerFilterConfig: map[string]*anypb.Any{apiKeyAuthFilter: mustAny(t, perRoute)},
			}},
		}},
	}
}

func (f proxyFixture) cluster() *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 clusterName,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
			ResourceApiVersion:    corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		}},
		ConnectTimeout: durationpb.New(f.timeout),
		LbPolicy:       clusterv3.Cluster_ROUND_ROBIN,
	}
}

func (f proxyFixture) endpoints() *endpointv3.ClusterLoadAssignment {
	return &endpointv3.ClusterLoadAssignment{
		ClusterName: clusterName,
		Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
					Address: f.endpointIP, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080},
				}}},
			}},
		}}}},
	}
}

func mustAny(t testing.TB, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatalf("packing %T: %v", m, err)
	}
	return a
}

// startServer runs a Server on a loopback port until the test ends.
func startServer(t *testing.T) (*Server, string, *logcapture.Buffer) {
	t.Helper()
	logs := &logcapture.Buffer{}
	s := NewServer(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on loopback: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, lis.Addr().String(), logs
}
