package envoybootstrap

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	dnsclusterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dns/v3"
	rawbufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/raw_buffer/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Envoy's defaults (config_source.proto, cluster.proto).
const (
	defaultInitialFetchTimeout = 15 * time.Second
	defaultConnectTimeout      = 5 * time.Second
)

const (
	whyRateLimit = "Envoy's token bucket on its own discovery requests; it delays requests only in bursts a control plane answering normally never causes"
	whyDNS       = "when Envoy re-resolves the ADS cluster's name; the caller resolves it"
)

var dynamicResourcesFields = map[protoreflect.Name]rule{
	"ads_config": implemented,
	"lds_config": implemented,
	"cds_config": implemented,
}

var adsConfigFields = map[protoreflect.Name]rule{
	"api_type":                       implemented,
	"transport_api_version":          implemented,
	"grpc_services":                  implemented,
	"set_node_on_first_message_only": implemented,
	"rate_limit_settings":            ignored(whyRateLimit),
}

var grpcServiceFields = map[protoreflect.Name]rule{"envoy_grpc": implemented}

var envoyGrpcFields = map[protoreflect.Name]rule{
	"cluster_name": implemented,
	"authority":    ignored("the :authority of the ADS stream; the control planes here serve any authority"),
}

var adsConfigSourceFields = map[protoreflect.Name]rule{
	"ads":                   implemented,
	"resource_api_version":  implemented,
	"initial_fetch_timeout": implemented,
}

// adsClusterFields are the fields of the static cluster the xDS client
// dials. Fields of a cluster with load balancing, health checking or
// several endpoints have no rule: they are errors here.
var adsClusterFields = map[protoreflect.Name]rule{
	"name":                             implemented,
	"type":                             implemented,
	"cluster_type":                     implemented,
	"connect_timeout":                  implemented,
	"load_assignment":                  implemented,
	"typed_extension_protocol_options": implemented,
	"http2_protocol_options":           implemented,
	"transport_socket":                 implemented,
	"upstream_connection_options":      implemented,
	"dns_lookup_family":                implemented,

	"lb_policy":                ignored("the ADS cluster has one endpoint, which every load balancing policy picks"),
	"alt_stat_name":            ignored(whyMetrics),
	"metadata":                 ignored("data for extensions to read; nothing reads the ADS cluster's"),
	"respect_dns_ttl":          ignored(whyDNS),
	"dns_refresh_rate":         ignored(whyDNS),
	"dns_failure_refresh_rate": ignored(whyDNS),
	"dns_jitter":               ignored(whyDNS),
}

var dnsClusterFields = map[protoreflect.Name]rule{
	"dns_lookup_family":                implemented,
	"respect_dns_ttl":                  ignored(whyDNS),
	"dns_refresh_rate":                 ignored(whyDNS),
	"dns_failure_refresh_rate":         ignored(whyDNS),
	"dns_jitter":                       ignored(whyDNS),
	"dns_min_refresh_rate":             ignored(whyDNS),
	"all_addresses_in_single_endpoint": ignored("whether the name's addresses form one endpoint or several; the xDS client keeps one connection either way"),
}

// ads checks dynamic_resources and the ADS cluster. It returns the index of
// the ADS cluster in static_resources.clusters.
func (l *loader) ads() (*ADS, int, error) {
	dr := l.b.GetDynamicResources()
	fail := func(err error) (*ADS, int, error) { return nil, -1, l.from("dynamic_resources", err) }
	if err := l.check.fields(dr, "bootstrap field", "dynamic_resources", dynamicResourcesFields); err != nil {
		return fail(err)
	}
	ac := dr.GetAdsConfig()
	if ac == nil {
		return fail(errors.New("dynamic_resources without ads_config: the sim receives listeners and clusters over ADS only"))
	}
	if err := l.check.fields(ac, "bootstrap field", "dynamic_resources.ads_config", adsConfigFields); err != nil {
		return fail(err)
	}
	a := &ADS{NodeOnFirstMessageOnly: ac.GetSetNodeOnFirstMessageOnly()}
	switch ac.GetApiType() {
	case corev3.ApiConfigSource_GRPC:
	case corev3.ApiConfigSource_DELTA_GRPC:
		a.Delta = true
	default:
		return fail(fmt.Errorf("dynamic_resources.ads_config.api_type %s: the sim implements ADS over GRPC and DELTA_GRPC", ac.GetApiType()))
	}
	// Config::Utility::checkTransportVersion (source/common/config/utility.h).
	if ac.GetTransportApiVersion() != corev3.ApiVersion_V3 {
		return fail(fmt.Errorf("dynamic_resources.ads_config.transport_api_version %s: Envoy rejects it (\"V2 (and AUTO) xDS transport protocol versions are deprecated\"): set V3", ac.GetTransportApiVersion()))
	}
	// Config::Utility::checkApiConfigSourceSubscriptionBackingCluster
	// (source/common/config/utility.cc): one service, without xDS failover.
	if n := len(ac.GetGrpcServices()); n != 1 {
		return fail(fmt.Errorf("dynamic_resources.ads_config has %d grpc_services: the sim implements exactly one (Envoy takes a second only with its xDS failover feature)", n))
	}
	gs := ac.GetGrpcServices()[0]
	if err := l.check.fields(gs, "bootstrap field", "dynamic_resources.ads_config.grpc_services[0]", grpcServiceFields); err != nil {
		return fail(err)
	}
	if err := l.check.fields(gs.GetEnvoyGrpc(), "bootstrap field", "dynamic_resources.ads_config.grpc_services[0].envoy_grpc", envoyGrpcFields); err != nil {
		return fail(err)
	}
	a.Cluster = gs.GetEnvoyGrpc().GetClusterName()

	for _, c := range []struct {
		name    string
		src     *corev3.ConfigSource
		timeout *time.Duration
	}{
		{"lds_config", dr.GetLdsConfig(), &a.LDSInitialFetchTimeout},
		{"cds_config", dr.GetCdsConfig(), &a.CDSInitialFetchTimeout},
	} {
		path := "dynamic_resources." + c.name
		if c.src == nil {
			return fail(fmt.Errorf("%s is not set: the sim subscribes to listeners and clusters over ADS, so it implements a bootstrap with both lds_config and cds_config set to ads: {}", path))
		}
		if err := l.check.fields(c.src, "bootstrap field", path, adsConfigSourceFields); err != nil {
			return fail(fmt.Errorf("%w (the sim implements %s: {ads: {}} only)", err, path))
		}
		if c.src.GetAds() == nil {
			return fail(fmt.Errorf("%s is not ads: {}: the sim implements listeners and clusters over ADS only", path))
		}
		if v := c.src.GetResourceApiVersion(); v == corev3.ApiVersion_V2 {
			return fail(fmt.Errorf("%s.resource_api_version V2: Envoy no longer has v2 resources: set V3", path))
		}
		*c.timeout = defaultInitialFetchTimeout
		if t := c.src.GetInitialFetchTimeout(); t != nil {
			*c.timeout = t.AsDuration()
		}
	}

	// The gRPC client's cluster must be a static one
	// (Grpc::AsyncClientFactoryImpl, source/common/grpc/async_client_manager_impl.cc).
	index := -1
	for i, c := range l.b.GetStaticResources().GetClusters() {
		if c.GetName() == a.Cluster {
			index = i
		}
	}
	if index < 0 {
		return fail(fmt.Errorf("dynamic_resources.ads_config names cluster %q, which is not in static_resources.clusters: Envoy rejects it (\"Unknown gRPC client cluster '%s'\")", a.Cluster, a.Cluster))
	}
	c := l.b.GetStaticResources().GetClusters()[index]
	prefix := fmt.Sprintf("static_resources.clusters[%d]", index)
	err := l.check.within(prefix+".", func() error { return l.adsCluster(c, a) })
	if err != nil {
		return nil, -1, l.from("static_resources", fmt.Errorf("%s %q (the ADS cluster): %w", prefix, c.GetName(), err))
	}
	return a, index, nil
}

// adsCluster checks the ADS cluster and fills in a's address, TLS and
// connection settings. Paths in its errors are relative to the cluster.
func (l *loader) adsCluster(c *clusterv3.Cluster, a *ADS) error {
	// The bootstrap's ValidateAll has checked the cluster itself, but not
	// what its Anys hold: each is validated where it is unpacked.
	if err := l.check.fields(c, "field", "", adsClusterFields); err != nil {
		return err
	}
	static, err := l.adsClusterType(c)
	if err != nil {
		return err
	}
	if a.Address, err = adsAddress(c, static); err != nil {
		return err
	}
	a.ConnectTimeout = defaultConnectTimeout
	if t := c.GetConnectTimeout(); t != nil {
		a.ConnectTimeout = t.AsDuration()
	}
	if a.HTTP2Keepalive, err = l.http2(c); err != nil {
		return err
	}
	if o := c.GetUpstreamConnectionOptions(); o != nil {
		if err := l.check.fields(o, "field", "upstream_connection_options", map[protoreflect.Name]rule{"tcp_keepalive": implemented}); err != nil {
			return err
		}
		a.TCPKeepalive = o.GetTcpKeepalive()
	}
	// Its errors carry the transport_socket path themselves.
	a.TLS, err = l.transportSocket(c.GetTransportSocket())
	return err
}

// adsClusterType checks the cluster's discovery type; static reports
// STATIC, whose address must be an IP.
func (l *loader) adsClusterType(c *clusterv3.Cluster) (static bool, err error) {
	family := c.GetDnsLookupFamily().String()
	switch t := c.GetClusterDiscoveryType().(type) {
	case nil:
		return true, nil // STATIC is the default type
	case *clusterv3.Cluster_Type:
		switch t.Type {
		case clusterv3.Cluster_STATIC:
			return true, nil
		case clusterv3.Cluster_STRICT_DNS, clusterv3.Cluster_LOGICAL_DNS:
		default:
			return false, fmt.Errorf("type %s: the sim implements an ADS cluster of type STATIC, STRICT_DNS or LOGICAL_DNS", t.Type)
		}
	case *clusterv3.Cluster_ClusterType:
		m, err := unpack(t.ClusterType.GetTypedConfig())
		if err != nil {
			return false, fmt.Errorf("cluster_type %q: %w", t.ClusterType.GetName(), err)
		}
		dns, ok := m.(*dnsclusterv3.DnsCluster)
		if !ok {
			return false, fmt.Errorf("cluster_type %q (%s): the sim implements an ADS cluster of type STATIC, STRICT_DNS, LOGICAL_DNS or envoy.extensions.clusters.dns.v3.DnsCluster", t.ClusterType.GetName(), t.ClusterType.GetTypedConfig().GetTypeUrl())
		}
		if err := l.check.fields(dns, "field", "cluster_type.typed_config", dnsClusterFields); err != nil {
			return false, err
		}
		family = dns.GetDnsLookupFamily().String()
	}
	if family == "V6_ONLY" {
		return false, errors.New("dns_lookup_family V6_ONLY: the sim's environment is IPv4 only")
	}
	return false, nil
}

// adsAddress returns host:port of the cluster's one endpoint.
func adsAddress(c *clusterv3.Cluster, static bool) (string, error) {
	la := c.GetLoadAssignment()
	if la == nil {
		return "", errors.New("no load_assignment: the sim implements an ADS cluster with one endpoint in load_assignment")
	}
	if len(la.GetNamedEndpoints()) > 0 || la.GetPolicy() != nil {
		return "", errors.New("load_assignment sets named_endpoints or policy, which the sim does not implement for the ADS cluster")
	}
	var n int
	for _, loc := range la.GetEndpoints() {
		n += len(loc.GetLbEndpoints())
	}
	if n != 1 {
		return "", fmt.Errorf("load_assignment has %d endpoints: the sim's xDS client connects to exactly one (an IP, or a DNS name such as a Service's)", n)
	}
	for _, loc := range la.GetEndpoints() {
		for _, lb := range loc.GetLbEndpoints() {
			e := lb.GetEndpoint()
			if e == nil {
				return "", errors.New("load_assignment's endpoint is an endpoint_name, which the sim does not implement")
			}
			if len(e.GetAdditionalAddresses()) > 0 {
				return "", errors.New("load_assignment's endpoint has additional_addresses, which the sim does not implement")
			}
			sa := e.GetAddress().GetSocketAddress()
			if sa == nil || sa.GetPortValue() == 0 || sa.GetProtocol() != corev3.SocketAddress_TCP || sa.GetResolverName() != "" || sa.GetNetworkNamespaceFilepath() != "" {
				return "", errors.New("load_assignment's endpoint: the sim implements a TCP socket_address with a port_value")
			}
			host := sa.GetAddress()
			if _, err := netip.ParseAddr(host); err != nil && static {
				return "", fmt.Errorf("load_assignment's endpoint address %q is not an IP, which a STATIC cluster needs (Envoy: malformed IP address)", host)
			}
			return net.JoinHostPort(host, strconv.FormatUint(uint64(sa.GetPortValue()), 10)), nil
		}
	}
	panic("unreachable")
}

// http2 checks that the cluster speaks HTTP/2, which gRPC needs, and
// returns its connection keepalive.
func (l *loader) http2(c *clusterv3.Cluster) (*corev3.KeepaliveSettings, error) {
	const key = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
	var h2 *corev3.Http2ProtocolOptions
	path := "http2_protocol_options"
	for k, v := range c.GetTypedExtensionProtocolOptions() {
		if k != key {
			return nil, fmt.Errorf("typed_extension_protocol_options[%q]: the sim implements %s only", k, key)
		}
		m, err := unpack(v)
		if err != nil {
			return nil, fmt.Errorf("typed_extension_protocol_options[%q]: %w", k, err)
		}
		opts, ok := m.(*upstreamhttpv3.HttpProtocolOptions)
		if !ok {
			return nil, fmt.Errorf("typed_extension_protocol_options[%q] holds %s", k, v.GetTypeUrl())
		}
		base := fmt.Sprintf("typed_extension_protocol_options[%q]", k)
		if err := l.check.fields(opts, "field", base, map[protoreflect.Name]rule{"explicit_http_config": implemented}); err != nil {
			return nil, err
		}
		h2 = opts.GetExplicitHttpConfig().GetHttp2ProtocolOptions()
		if h2 == nil {
			return nil, fmt.Errorf("%s: gRPC needs HTTP/2: set explicit_http_config.http2_protocol_options", base)
		}
		path = base + ".explicit_http_config.http2_protocol_options"
	}
	// The deprecated field is what older bootstraps use.
	if old := c.GetHttp2ProtocolOptions(); old != nil {
		if h2 != nil {
			return nil, fmt.Errorf("http2_protocol_options and typed_extension_protocol_options[%q] are both set: Envoy rejects it", key)
		}
		h2 = old
	}
	if h2 == nil {
		return nil, fmt.Errorf("gRPC needs HTTP/2: set typed_extension_protocol_options[%q] explicit_http_config.http2_protocol_options (or the deprecated http2_protocol_options)", key)
	}
	if err := l.check.fields(h2, "field", path, map[protoreflect.Name]rule{"connection_keepalive": implemented}); err != nil {
		return nil, err
	}
	return h2.GetConnectionKeepalive(), nil
}

// transportSocket returns the ADS cluster's TLS client configuration, nil
// for plaintext.
func (l *loader) transportSocket(ts *corev3.TransportSocket) (*tls.Config, error) {
	if ts == nil {
		return nil, nil
	}
	if err := l.check.fields(ts, "field", "transport_socket", map[protoreflect.Name]rule{"name": implemented, "typed_config": implemented}); err != nil {
		return nil, err
	}
	// Envoy picks the transport socket factory by the typed_config's type.
	m, err := unpack(ts.GetTypedConfig())
	if err != nil {
		return nil, fmt.Errorf("transport_socket %q: %w", ts.GetName(), err)
	}
	switch m := m.(type) {
	case *rawbufferv3.RawBuffer:
		return nil, nil
	case *tlsv3.UpstreamTlsContext:
		return l.upstreamTLS(m, "transport_socket.typed_config")
	default:
		return nil, fmt.Errorf("transport_socket %q (%s): the sim implements envoy.transport_sockets.tls (UpstreamTlsContext) and raw_buffer for the ADS cluster", ts.GetName(), ts.GetTypedConfig().GetTypeUrl())
	}
}
