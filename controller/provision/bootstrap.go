package provision

import (
	"fmt"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	healthcheckv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/controller/translate"
)

// Ports inside a data plane pod that no Gateway listener may use.
const (
	// AdminPort is Envoy's admin interface, bound to 127.0.0.1 only: it
	// can change the proxy's state and dump its configuration, API keys
	// included, so it is reachable through `kubectl port-forward` alone.
	AdminPort = 19000
	// ReadyPort serves GET /ready for the kubelet's readiness probe.
	ReadyPort = 19001
)

const (
	xdsClusterName = "xds_cluster"
	readyPath      = "/ready"
	// xdsConnectTimeout bounds one connection attempt to the controller;
	// Envoy retries with backoff.
	xdsConnectTimeout = 5 * time.Second
	// The keepalive detects a controller that went away without closing
	// the connection (a node or pod network failure), so Envoy reconnects.
	xdsKeepaliveInterval = 30 * time.Second
	xdsKeepaliveTimeout  = 5 * time.Second
)

// Bootstrap is the static configuration of a Gateway's Envoy: its node
// identity (id "<namespace>/<name>", translate.NodeID, and cluster the
// Gateway's name), ADS over gRPC to the controller for listeners and
// clusters (routes and endpoints follow from them), the admin interface on
// 127.0.0.1, and a ready listener.
//
// The ready listener answers GET /ready with Envoy's health check filter:
// 200 while the server is live, 503 once it is draining or failing health
// checks. It answers nothing before: Envoy opens no listener until its
// initialisation is done (first xDS answers, or initial_fetch_timeout), so
// the probe sees the same states as the admin interface's /ready without
// exposing the admin interface.
//
// The result passes ValidateAll(), and so does every message packed in it.
func Bootstrap(gateway types.NamespacedName, cfg Config) (*bootstrapv3.Bootstrap, error) {
	host, port, err := splitXDSAddress(cfg.XDSAddress)
	if err != nil {
		return nil, err
	}
	ready, err := readyListener()
	if err != nil {
		return nil, err
	}
	xds, err := xdsCluster(host, port)
	if err != nil {
		return nil, err
	}
	b := &bootstrapv3.Bootstrap{
		Node:  &corev3.Node{Id: translate.NodeID(gateway), Cluster: gateway.Name},
		Admin: &bootstrapv3.Admin{Address: socketAddress("127.0.0.1", AdminPort)},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType:             corev3.ApiConfigSource_GRPC,
				TransportApiVersion: corev3.ApiVersion_V3,
				GrpcServices: []*corev3.GrpcService{{
					TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: xdsClusterName}},
				}},
				// The controller's xDS server remembers the node of a
				// stream's first request (go-control-plane does).
				SetNodeOnFirstMessageOnly: true,
			},
			LdsConfig: adsConfigSource(),
			CdsConfig: adsConfigSource(),
		},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Listeners: []*listenerv3.Listener{ready},
			Clusters:  []*clusterv3.Cluster{xds},
		},
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("Envoy bootstrap of Gateway %s: %w", gateway, err)
	}
	return b, nil
}

// RenderBootstrap renders b as Envoy reads a .yaml bootstrap: the proto
// JSON mapping with field names as in Envoy's documentation, as YAML with
// sorted keys (protojson's own output is deliberately unstable).
func RenderBootstrap(b *bootstrapv3.Bootstrap) ([]byte, error) {
	j, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encoding the Envoy bootstrap: %w", err)
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return nil, fmt.Errorf("encoding the Envoy bootstrap as YAML: %w", err)
	}
	return y, nil
}

func adsConfigSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

func readyListener() (*listenerv3.Listener, error) {
	health, err := pack(&healthcheckv3.HealthCheck{
		PassThroughMode: wrapperspb.Bool(false),
		Headers: []*routev3.HeaderMatcher{{
			Name: ":path",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_Exact{Exact: readyPath},
			}},
		}},
	})
	if err != nil {
		return nil, err
	}
	router, err := pack(&routerv3.Router{})
	if err != nil {
		return nil, err
	}
	hcm, err := pack(&hcmv3.HttpConnectionManager{
		StatPrefix: "ready",
		// No virtual host: any other path gets the router's 404.
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{Name: "ready"}},
		HttpFilters: []*hcmv3.HttpFilter{
			{Name: "envoy.filters.http.health_check", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: health}},
			{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router}},
		},
	})
	if err != nil {
		return nil, err
	}
	return &listenerv3.Listener{
		Name:    "ready",
		Address: socketAddress("0.0.0.0", ReadyPort),
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       "envoy.filters.network.http_connection_manager",
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcm},
			}},
		}},
	}, nil
}

func xdsCluster(host string, port uint32) (*clusterv3.Cluster, error) {
	// gRPC needs HTTP/2 to the controller.
	protocol, err := pack(&upstreamhttpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
						ConnectionKeepalive: &corev3.KeepaliveSettings{
							Interval: durationpb.New(xdsKeepaliveInterval),
							Timeout:  durationpb.New(xdsKeepaliveTimeout),
						},
					},
				},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	return &clusterv3.Cluster{
		Name: xdsClusterName,
		// STRICT_DNS follows the Service's address if it is recreated.
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS},
		ConnectTimeout:       durationpb.New(xdsConnectTimeout),
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: xdsClusterName,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{{
					HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress(host, port)}},
				}},
			}},
		},
		TypedExtensionProtocolOptions: map[string]*anypb.Any{
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": protocol,
		},
	}, nil
}

func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       host,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

// validated is what protoc-gen-validate generates for every Envoy message.
type validated interface {
	proto.Message
	ValidateAll() error
}

// pack validates m and wraps it in an Any. Validating here covers what the
// outer ValidateAll() cannot: it does not look inside an Any.
func pack(m validated) (*anypb.Any, error) {
	if err := m.ValidateAll(); err != nil {
		return nil, fmt.Errorf("Envoy bootstrap: %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	a, err := anypb.New(m)
	if err != nil {
		return nil, fmt.Errorf("Envoy bootstrap: packing %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return a, nil
}
