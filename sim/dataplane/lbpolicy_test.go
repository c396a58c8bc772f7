package dataplane

import (
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	commonlbv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/common/v3"
	leastrequestv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/least_request/v3"
	maglevv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/maglev/v3"
	randomv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/random/v3"
	roundrobinv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/round_robin/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/keyconform/keyconform/internal/xdstest"
)

// egPolicy is Envoy Gateway's default policy: least request with locality
// weighted load balancing.
func egPolicy() *leastrequestv3.LeastRequest {
	return &leastrequestv3.LeastRequest{LocalityLbConfig: &commonlbv3.LocalityLbConfig{
		LocalityConfigSpecifier: &commonlbv3.LocalityLbConfig_LocalityWeightedLbConfig_{
			LocalityWeightedLbConfig: &commonlbv3.LocalityLbConfig_LocalityWeightedLbConfig{},
		},
	}}
}

// egCluster is a cluster as Envoy Gateway v1.9 emits it for a route rule
// (internal/xds/translator/testdata/out/xds-ir/http-route.clusters.yaml),
// with policy as its load_balancing_policy.
func egCluster(t *testing.T, name string, policy proto.Message) *clusterv3.Cluster {
	t.Helper()
	names := map[string]string{
		typeURL(&leastrequestv3.LeastRequest{}): policyLeastRequest,
		typeURL(&roundrobinv3.RoundRobin{}):     policyRoundRobin,
		typeURL(&randomv3.Random{}):             policyRandom,
		typeURL(&maglevv3.Maglev{}):             "envoy.load_balancing_policies.maglev",
	}
	return xdstest.EGCluster(t, name, names[typeURL(policy)], policy)
}

func anyOf(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCompileClusterLoadBalancing(t *testing.T) {
	zoneAware := func(z *commonlbv3.LocalityLbConfig_ZoneAwareLbConfig) *commonlbv3.LocalityLbConfig {
		return &commonlbv3.LocalityLbConfig{LocalityConfigSpecifier: &commonlbv3.LocalityLbConfig_ZoneAwareLbConfig_{ZoneAwareLbConfig: z}}
	}
	tests := []struct {
		name    string
		cluster func(t *testing.T) *clusterv3.Cluster
		want    lbConfig
		timeout time.Duration
	}{
		{"Envoy Gateway's cluster", func(t *testing.T) *clusterv3.Cluster { return egCluster(t, "c", egPolicy()) },
			lbConfig{kind: lbLeastRequest, choiceCount: 2, bias: 1, localityWeighted: true, panicThreshold: 50}, 10 * time.Second},
		{"least request options", func(t *testing.T) *clusterv3.Cluster {
			return egCluster(t, "c", &leastrequestv3.LeastRequest{
				ChoiceCount:       wrapperspb.UInt32(5),
				ActiveRequestBias: &corev3.RuntimeDouble{DefaultValue: 0.5, RuntimeKey: "k"},
				SelectionMethod:   leastrequestv3.LeastRequest_FULL_SCAN,
				EnableFullScan:    wrapperspb.Bool(false),
			})
		}, lbConfig{kind: lbLeastRequest, choiceCount: 5, bias: 0.5, fullScan: true, panicThreshold: 50}, 10 * time.Second},
		{"negative bias is 1.0", func(t *testing.T) *clusterv3.Cluster {
			return egCluster(t, "c", &leastrequestv3.LeastRequest{ActiveRequestBias: &corev3.RuntimeDouble{DefaultValue: -2}})
		}, lbConfig{kind: lbLeastRequest, choiceCount: 2, bias: 1, panicThreshold: 50}, 10 * time.Second},
		{"round robin, panic threshold", func(t *testing.T) *clusterv3.Cluster {
			c := egCluster(t, "c", &roundrobinv3.RoundRobin{LocalityLbConfig: egPolicy().LocalityLbConfig})
			c.CommonLbConfig.HealthyPanicThreshold = &typev3.Percent{Value: 24.6}
			return c
		}, lbConfig{kind: lbRoundRobin, choiceCount: 2, bias: 1, localityWeighted: true, panicThreshold: 25}, 10 * time.Second},
		{"random, zone aware settings without effect", func(t *testing.T) *clusterv3.Cluster {
			return egCluster(t, "c", &randomv3.Random{LocalityLbConfig: zoneAware(&commonlbv3.LocalityLbConfig_ZoneAwareLbConfig{
				MinClusterSize: wrapperspb.UInt64(1), RoutingEnabled: &typev3.Percent{Value: 50}, FailTrafficOnPanic: true,
			})})
		}, lbConfig{kind: lbRandom, choiceCount: 2, bias: 1, failOnPanic: true, panicThreshold: 50}, 10 * time.Second},
		{"legacy lb_policy", func(t *testing.T) *clusterv3.Cluster {
			return &clusterv3.Cluster{
				Name:                 "c",
				ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
				LbPolicy:             clusterv3.Cluster_LEAST_REQUEST,
				LbConfig: &clusterv3.Cluster_LeastRequestLbConfig_{LeastRequestLbConfig: &clusterv3.Cluster_LeastRequestLbConfig{
					ChoiceCount: wrapperspb.UInt32(3),
				}},
				CommonLbConfig: &clusterv3.Cluster_CommonLbConfig{LocalityConfigSpecifier: &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig_{
					LocalityWeightedLbConfig: &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig{},
				}},
			}
		}, lbConfig{kind: lbLeastRequest, choiceCount: 3, bias: 1, localityWeighted: true, panicThreshold: 50}, defaultConnectTimeout},
		{"legacy random", func(t *testing.T) *clusterv3.Cluster {
			return &clusterv3.Cluster{Name: "c", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}, LbPolicy: clusterv3.Cluster_RANDOM}
		}, lbConfig{kind: lbRandom, choiceCount: 2, bias: 1, panicThreshold: 50}, defaultConnectTimeout},
		{"HTTP/1.1 spelled out", func(t *testing.T) *clusterv3.Cluster {
			c := egCluster(t, "c", egPolicy())
			c.TypedExtensionProtocolOptions = map[string]*anypb.Any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": anyOf(t, &httpv3.HttpProtocolOptions{
				UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
					ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}},
				}},
			})}
			return c
		}, lbConfig{kind: lbLeastRequest, choiceCount: 2, bias: 1, localityWeighted: true, panicThreshold: 50}, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := compileCluster(tt.cluster(t))
			if err != nil {
				t.Fatal(err)
			}
			if *s.lb.cfg != tt.want {
				t.Errorf("load balancing %+v, want %+v", *s.lb.cfg, tt.want)
			}
			if s.connectTimeout != tt.timeout {
				t.Errorf("connect timeout %v, want %v", s.connectTimeout, tt.timeout)
			}
		})
	}
}

// What the sim cannot honour is NACKed naming the field (and Envoy's own
// rejections keep Envoy's words).
func TestCompileClusterRejections(t *testing.T) {
	eg := func(mutate func(*clusterv3.Cluster)) func(t *testing.T) *clusterv3.Cluster {
		return func(t *testing.T) *clusterv3.Cluster {
			c := egCluster(t, "c", egPolicy())
			mutate(c)
			return c
		}
	}
	tests := []struct {
		name    string
		cluster func(t *testing.T) *clusterv3.Cluster
		want    string
	}{
		{"maglev", func(t *testing.T) *clusterv3.Cluster { return egCluster(t, "c", &maglevv3.Maglev{}) },
			`load_balancing_policy.policies[0] "envoy.load_balancing_policies.maglev" (type.googleapis.com/envoy.extensions.load_balancing_policies.maglev.v3.Maglev) is not implemented by the sim`},
		{"maglev first, round robin second", eg(func(c *clusterv3.Cluster) {
			c.LoadBalancingPolicy.Policies = append([]*clusterv3.LoadBalancingPolicy_Policy{{TypedExtensionConfig: &corev3.TypedExtensionConfig{
				Name: "envoy.load_balancing_policies.maglev", TypedConfig: anyOf(t, &maglevv3.Maglev{}),
			}}}, c.LoadBalancingPolicy.Policies...)
		}), "maglev"},
		{"slow start", func(t *testing.T) *clusterv3.Cluster {
			return egCluster(t, "c", &roundrobinv3.RoundRobin{SlowStartConfig: &commonlbv3.SlowStartConfig{SlowStartWindow: durationpb.New(time.Minute)}})
		}, "load_balancing_policy.policies[0].typed_extension_config.typed_config.slow_start_config (slow start)"},
		{"forced local zone", func(t *testing.T) *clusterv3.Cluster {
			return egCluster(t, "c", &leastrequestv3.LeastRequest{LocalityLbConfig: &commonlbv3.LocalityLbConfig{
				LocalityConfigSpecifier: &commonlbv3.LocalityLbConfig_ZoneAwareLbConfig_{ZoneAwareLbConfig: &commonlbv3.LocalityLbConfig_ZoneAwareLbConfig{
					ForceLocalZone: &commonlbv3.LocalityLbConfig_ZoneAwareLbConfig_ForceLocalZone{MinSize: wrapperspb.UInt32(1)},
				}},
			}})
		}, "locality_lb_config.zone_aware_lb_config.force_local_zone"},
		{"with common_lb_config's locality settings", eg(func(c *clusterv3.Cluster) {
			c.CommonLbConfig.LocalityConfigSpecifier = &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig_{
				LocalityWeightedLbConfig: &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig{}}
		}), "cluster: load_balancing_policy cannot be combined with partial fields (zone_aware_lb_config, locality_weighted_lb_config, consistent_hashing_lb_config) of common_lb_config"},
		{"legacy ring hash", func(t *testing.T) *clusterv3.Cluster {
			return &clusterv3.Cluster{Name: "c", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}, LbPolicy: clusterv3.Cluster_RING_HASH}
		}, "lb_policy RING_HASH is not implemented by the sim"},
		{"LOAD_BALANCING_POLICY_CONFIG without a policy", func(t *testing.T) *clusterv3.Cluster {
			return &clusterv3.Cluster{Name: "c", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}, LbPolicy: clusterv3.Cluster_LOAD_BALANCING_POLICY_CONFIG}
		}, "cluster: field load_balancing_policy need to be set"},
		{"health checks and outlier detection", eg(func(c *clusterv3.Cluster) {
			c.HealthChecks = []*corev3.HealthCheck{{Timeout: durationpb.New(time.Second), Interval: durationpb.New(time.Second),
				UnhealthyThreshold: wrapperspb.UInt32(1), HealthyThreshold: wrapperspb.UInt32(1),
				HealthChecker: &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}}}}
			c.OutlierDetection = &clusterv3.OutlierDetection{}
		}), "cluster sets health_checks (active health checking), outlier_detection (outlier detection (passive health checking)), which the sim does not implement"},
		{"circuit breaker on requests", eg(func(c *clusterv3.Cluster) {
			c.CircuitBreakers.Thresholds[0].MaxRequests = wrapperspb.UInt32(10)
		}), "circuit_breakers.thresholds[0].max_requests (circuit breaking on requests)"},
		{"HTTP/2 upstream", eg(func(c *clusterv3.Cluster) {
			c.TypedExtensionProtocolOptions = map[string]*anypb.Any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": anyOf(t, &httpv3.HttpProtocolOptions{
				UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
					ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}},
				}},
			})}
		}), `typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].explicit_http_config.http2_protocol_options`},
		{"HTTP/1.1 option", eg(func(c *clusterv3.Cluster) {
			c.TypedExtensionProtocolOptions = map[string]*anypb.Any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": anyOf(t, &httpv3.HttpProtocolOptions{
				UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
					ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{EnableTrailers: true}},
				}},
			})}
		}), "explicit_http_config.http_protocol_options.enable_trailers"},
		{"a field without a rule", eg(func(c *clusterv3.Cluster) {
			c.LrsServer = &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Self{Self: &corev3.SelfConfigSource{}}}
		}), "cluster sets lrs_server (load reporting)"},
		{"not waiting for endpoints", eg(func(c *clusterv3.Cluster) { c.WaitForWarmOnInit = wrapperspb.Bool(false) }), "wait_for_warm_on_init: false"},
		{"load_assignment on EDS", eg(func(c *clusterv3.Cluster) {
			c.LoadAssignment = &endpointv3.ClusterLoadAssignment{ClusterName: "c"}
		}), "load_assignment on an EDS cluster"},
		{"TLS", eg(func(c *clusterv3.Cluster) {
			c.TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls"}
		}), "transport_socket (TLS or other transport sockets to upstreams)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileCluster(tt.cluster(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCompileLoadAssignmentRejections(t *testing.T) {
	sock := func(ip string, port uint32) *corev3.Address {
		return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
	}
	tests := []struct {
		name string
		cla  *endpointv3.ClusterLoadAssignment
		want string
	}{
		{"drop overloads", &endpointv3.ClusterLoadAssignment{ClusterName: "c", Policy: &endpointv3.ClusterLoadAssignment_Policy{
			DropOverloads: []*endpointv3.ClusterLoadAssignment_Policy_DropOverload{{Category: "x", DropPercentage: &typev3.FractionalPercent{Numerator: 1}}},
		}}, "policy.drop_overloads"},
		{"named endpoint", &endpointv3.ClusterLoadAssignment{ClusterName: "c", Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_EndpointName{EndpointName: "e"}}},
		}}}, "endpoints[0].lb_endpoints[0].endpoint_name (named endpoints)"},
		{"Unix socket", &endpointv3.ClusterLoadAssignment{ClusterName: "c", Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: &corev3.Address{Address: &corev3.Address_Pipe{Pipe: &corev3.Pipe{Path: "/s"}}}}}}},
		}}}, "endpoints[0].lb_endpoints[0].endpoint.address.pipe"},
		{"hostname address", &endpointv3.ClusterLoadAssignment{ClusterName: "c", Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: sock("backend.example", 80)}}}},
		}}}, `endpoint address "backend.example" is not an IP`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileEndpoints(tt.cla)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
