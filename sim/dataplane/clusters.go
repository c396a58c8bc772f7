package dataplane

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Envoy's defaults: Cluster.connect_timeout, and
// ClusterLoadAssignment.Policy.overprovisioning_factor (in percent).
const (
	defaultConnectTimeout   = 5 * time.Second
	defaultOverprovisioning = 140
)

// clusterSpec is a compiled Cluster: EDS over ADS, or STATIC with an inline
// load assignment. It lives as long as Envoy's cluster object does: until
// the cluster is removed or changed (an update that leaves the Cluster as
// it was keeps it), so it also holds what Envoy keeps per cluster across
// endpoint updates: the load balancer's state and the connection pool.
type clusterSpec struct {
	name    string
	edsName string       // the ClusterLoadAssignment to wait for, if EDS
	static  *endpointSet // the inline assignment, if STATIC
	// edsFetchTimeout is eds_config.initial_fetch_timeout: how long the
	// cluster warms waiting for its first endpoints before it goes on
	// without any (Envoy's default 15s; zero waits for ever).
	edsFetchTimeout time.Duration

	lb             *clusterLB
	connectTimeout time.Duration
	// idleTimeout closes upstream connections idle that long
	// (common_http_protocol_options.idle_timeout; Envoy's default 1h).
	idleTimeout time.Duration

	transportOnce sync.Once
	transport     http.RoundTripper
}

// defaultInitialFetchTimeout is a config source's initial_fetch_timeout
// when unset (envoy/config/core/v3/config_source.proto).
const defaultInitialFetchTimeout = 15 * time.Second

func compileCluster(c *clusterv3.Cluster) (*clusterSpec, error) {
	if err := c.ValidateAll(); err != nil {
		return nil, err
	}
	if err := checkFields(c, "cluster", ""); err != nil {
		return nil, err
	}
	if w := c.GetWaitForWarmOnInit(); w != nil && !w.GetValue() {
		return nil, errors.New("wait_for_warm_on_init: false (serving before the endpoints arrive) is not implemented by the sim")
	}
	protocol, err := compileProtocolOptions(c.GetTypedExtensionProtocolOptions())
	if err != nil {
		return nil, err
	}
	cfg, err := compileLoadBalancing(c)
	if err != nil {
		return nil, err
	}
	s := &clusterSpec{name: c.GetName(), lb: newClusterLB(cfg, nil), connectTimeout: defaultConnectTimeout, idleTimeout: defaultUpstreamIdleTimeout}
	if t := protocol.GetCommonHttpProtocolOptions().GetIdleTimeout(); t != nil {
		s.idleTimeout = t.AsDuration()
	}
	if t := c.GetConnectTimeout(); t != nil {
		s.connectTimeout = t.AsDuration()
	}
	switch c.GetType() {
	case clusterv3.Cluster_EDS:
		if c.GetEdsClusterConfig().GetEdsConfig().GetAds() == nil {
			return nil, errors.New("eds_cluster_config.eds_config must be ads: the sim receives endpoints over its ADS stream only")
		}
		if v := c.GetEdsClusterConfig().GetEdsConfig().GetResourceApiVersion(); v != corev3.ApiVersion_AUTO && v != corev3.ApiVersion_V3 {
			return nil, fmt.Errorf("eds_cluster_config.eds_config.resource_api_version %s is not implemented by the sim (it speaks V3)", v)
		}
		if c.GetLoadAssignment() != nil {
			return nil, errors.New("load_assignment on an EDS cluster (endpoints come from EDS) is not implemented by the sim")
		}
		s.edsName = c.GetEdsClusterConfig().GetServiceName()
		if s.edsName == "" {
			s.edsName = c.GetName()
		}
		s.edsFetchTimeout = defaultInitialFetchTimeout
		if t := c.GetEdsClusterConfig().GetEdsConfig().GetInitialFetchTimeout(); t != nil {
			s.edsFetchTimeout = t.AsDuration()
		}
	case clusterv3.Cluster_STATIC:
		eps, err := compileLoadAssignment(c.GetLoadAssignment(), false)
		if err != nil {
			return nil, fmt.Errorf("load_assignment: %w", err)
		}
		s.static = eps
	default:
		return nil, fmt.Errorf("cluster type %s is not implemented by the sim (EDS and STATIC are)", c.GetType())
	}
	return s, nil
}

// compileProtocolOptions accepts typed_extension_protocol_options that keep
// the upstream protocol what the sim speaks: HTTP/1.1 with Envoy's defaults.
func compileProtocolOptions(opts map[string]*anypb.Any) (*httpv3.HttpProtocolOptions, error) {
	const name = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
	o := &httpv3.HttpProtocolOptions{}
	for key, a := range opts {
		path := fmt.Sprintf("typed_extension_protocol_options[%q]", key)
		if key != name || a.GetTypeUrl() != typeURL(&httpv3.HttpProtocolOptions{}) {
			return nil, fmt.Errorf("%s (%s) is not implemented by the sim (it implements %s)", path, a.GetTypeUrl(), name)
		}
		if err := anypb.UnmarshalTo(a, o, proto.UnmarshalOptions{}); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := o.ValidateAll(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := checkFields(o, "cluster", path); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// defaultUpstreamIdleTimeout is common_http_protocol_options.idle_timeout
// when unset, for upstream connections (envoy/config/core/v3/protocol.proto).
const defaultUpstreamIdleTimeout = time.Hour

// transportFor is the cluster's own HTTP transport, made from the proxy's
// on first use: Envoy keeps connection pools per cluster, and each
// cluster's connect_timeout bounds its dials (ActiveClient's connect timer
// in source/common/conn_pool/conn_pool_base.cc). The dial itself is the
// proxy's, through the simulated pod network.
func (s *clusterSpec) transportFor(base http.RoundTripper) http.RoundTripper {
	s.transportOnce.Do(func() {
		s.transport = base
		bt, ok := base.(*http.Transport)
		if !ok || bt.DialContext == nil {
			return
		}
		t := bt.Clone()
		// Zero disables Envoy's idle timeout, as it disables Go's.
		t.IdleConnTimeout = s.idleTimeout
		dial, timeout := bt.DialContext, s.connectTimeout
		t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return dial(ctx, network, addr)
		}
		s.transport = t
	})
	return s.transport
}

// endpointSet is a compiled ClusterLoadAssignment: its endpoints grouped as
// Envoy's PrioritySet groups hosts, one host set per priority from 0 to the
// highest given, each with its hosts in the assignment's order and its
// localities in Envoy's order.
type endpointSet struct {
	priorities []*priorityEndpoints
	// overprovisioning is policy.overprovisioning_factor, in percent.
	overprovisioning uint32
	// weightedHealth is policy.weighted_priority_health: a priority's health
	// from its hosts' weights rather than their number.
	weightedHealth bool
}

type priorityEndpoints struct {
	hosts      []endpoint
	localities []endpointLocality
}

type endpoint struct {
	addr     string // virtual IP:port
	hostname string // Endpoint.hostname: what auto_host_rewrite sets the host to
	weight   uint32 // at least 1
	health   hostHealth
	excluded bool // EDS DRAINING: left out of load balancing
	locality int  // index into localities
}

// hostHealth is Envoy's Host::Health, as EDS health_status sets it
// (HostImplBase::setEdsHealthFlag): UNKNOWN and HEALTHY are healthy,
// DEGRADED degraded, UNHEALTHY, TIMEOUT and DRAINING unhealthy, DRAINING
// also excluded.
type hostHealth uint8

const (
	healthy hostHealth = iota
	degraded
	unhealthy
)

// endpointLocality is one locality of a priority. Envoy orders them by
// (region, zone, sub_zone), after the local locality when the node has one
// that matches (PriorityStateManager::updateClusterPrioritySet); the sim's
// data plane knows no node locality, and the local locality only comes
// first for zone-aware routing, which the sim does not do (whyZoneAware),
// and for equal-deadline ties in the locality schedule.
type endpointLocality struct {
	region, zone, subZone string
	// weight is load_balancing_weight, 0 when unset or when the locality
	// field is unset (PriorityStateManager::initializePriorityFor records
	// a weight only when both are set); with locality weighted load
	// balancing a locality of weight 0 gets no traffic.
	weight uint32
	hosts  []int // indexes into the priority's hosts
}

// compileEndpoints compiles a ClusterLoadAssignment received over EDS.
func compileEndpoints(cla *endpointv3.ClusterLoadAssignment) (*endpointSet, error) {
	return compileLoadAssignment(cla, true)
}

// compileLoadAssignment builds the host sets as Envoy's EDS cluster
// (dedupe: an address seen before, in any priority, is skipped, as
// BaseDynamicClusterImpl::updateDynamicHostList skips it) or its STATIC
// cluster (every endpoint is a host) does.
func compileLoadAssignment(cla *endpointv3.ClusterLoadAssignment, dedupe bool) (*endpointSet, error) {
	if err := cla.ValidateAll(); err != nil {
		return nil, err
	}
	if err := checkFields(cla, "cluster load assignment", ""); err != nil {
		return nil, err
	}
	set := &endpointSet{overprovisioning: defaultOverprovisioning, weightedHealth: cla.GetPolicy().GetWeightedPriorityHealth()}
	if f := cla.GetPolicy().GetOverprovisioningFactor(); f != nil {
		set.overprovisioning = f.GetValue()
	}
	type localityKey struct{ region, zone, subZone string }
	type building struct {
		hosts   []endpoint
		locs    map[localityKey][]int
		weights map[localityKey]uint32
	}
	// EDS updates the priorities in order, so an address in two priorities
	// stays in the first.
	order := make([]int, len(cla.GetEndpoints()))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(cla.GetEndpoints()[a].GetPriority(), cla.GetEndpoints()[b].GetPriority())
	})
	var prios []*building
	seen := map[string]bool{}
	for _, i := range order {
		le := cla.GetEndpoints()[i]
		p := int(le.GetPriority())
		for len(prios) <= p {
			prios = append(prios, &building{locs: map[localityKey][]int{}, weights: map[localityKey]uint32{}})
		}
		b := prios[p]
		loc := le.GetLocality()
		key := localityKey{loc.GetRegion(), loc.GetZone(), loc.GetSubZone()}
		if le.GetLocality() != nil && le.GetLoadBalancingWeight() != nil {
			b.weights[key] = le.GetLoadBalancingWeight().GetValue()
		}
		if _, ok := b.locs[key]; !ok {
			b.locs[key] = nil
		}
		for j, lb := range le.GetLbEndpoints() {
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			if sa == nil || sa.GetPortValue() == 0 {
				return nil, fmt.Errorf("endpoints[%d].lb_endpoints[%d]: only endpoints with a socket address and port_value are implemented by the sim", i, j)
			}
			ip, err := netip.ParseAddr(sa.GetAddress())
			if err != nil {
				return nil, fmt.Errorf("endpoints[%d].lb_endpoints[%d]: endpoint address %q is not an IP (hostnames are not implemented by the sim): %w", i, j, sa.GetAddress(), err)
			}
			addr := netip.AddrPortFrom(ip, uint16(sa.GetPortValue())).String()
			if dedupe && seen[addr] {
				continue
			}
			seen[addr] = true
			// HostImplBase::weight: at least 1 (0 is "unset").
			h := endpoint{addr: addr, hostname: lb.GetEndpoint().GetHostname(), weight: max(1, lb.GetLoadBalancingWeight().GetValue())}
			switch lb.GetHealthStatus() {
			case corev3.HealthStatus_UNKNOWN, corev3.HealthStatus_HEALTHY:
				h.health = healthy
			case corev3.HealthStatus_DEGRADED:
				h.health = degraded
			case corev3.HealthStatus_DRAINING:
				h.health, h.excluded = unhealthy, true
			default: // UNHEALTHY, TIMEOUT
				h.health = unhealthy
			}
			b.locs[key] = append(b.locs[key], len(b.hosts))
			b.hosts = append(b.hosts, h)
		}
	}
	if len(prios) == 0 {
		prios = []*building{{}} // Envoy always has priority 0
	}
	for _, b := range prios {
		pe := &priorityEndpoints{hosts: b.hosts}
		keys := make([]localityKey, 0, len(b.locs))
		for k, hs := range b.locs {
			if len(hs) > 0 { // Envoy groups hosts: a locality without any is not there
				keys = append(keys, k)
			}
		}
		slices.SortFunc(keys, func(a, b localityKey) int {
			return cmp.Or(cmp.Compare(a.region, b.region), cmp.Compare(a.zone, b.zone), cmp.Compare(a.subZone, b.subZone))
		})
		for li, k := range keys {
			for _, hi := range b.locs[k] {
				pe.hosts[hi].locality = li
			}
			pe.localities = append(pe.localities, endpointLocality{region: k.region, zone: k.zone, subZone: k.subZone, weight: b.weights[k], hosts: b.locs[k]})
		}
		set.priorities = append(set.priorities, pe)
	}
	return set, nil
}

// equal says two priorities have the same hosts, health, weights and
// localities: an update that leaves a priority equal does not refresh its
// load balancing state, as Envoy only refreshes the priorities an update
// changes.
func (p *priorityEndpoints) equal(q *priorityEndpoints) bool {
	return slices.Equal(p.hosts, q.hosts) && slices.EqualFunc(p.localities, q.localities, func(a, b endpointLocality) bool {
		return a.region == b.region && a.zone == b.zone && a.subZone == b.subZone && a.weight == b.weight && slices.Equal(a.hosts, b.hosts)
	})
}
