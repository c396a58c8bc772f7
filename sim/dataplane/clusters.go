package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
)

// clusterSpec is a compiled Cluster: EDS over ADS, or STATIC with an inline
// load assignment.
type clusterSpec struct {
	name    string
	edsName string       // the ClusterLoadAssignment to wait for, if EDS
	static  *endpointSet // the inline assignment, if STATIC
}

func compileCluster(c *clusterv3.Cluster) (*clusterSpec, error) {
	if err := c.ValidateAll(); err != nil {
		return nil, err
	}
	if err := unsupported("cluster", map[string]bool{
		"transport_socket":                 c.GetTransportSocket() != nil || len(c.GetTransportSocketMatches()) > 0,
		"lb_policy other than ROUND_ROBIN": c.GetLbPolicy() != clusterv3.Cluster_ROUND_ROBIN || c.GetLoadBalancingPolicy() != nil,
		"cluster_type":                     c.GetClusterType() != nil,
		"health_checks":                    len(c.GetHealthChecks()) > 0,
		"outlier_detection":                c.GetOutlierDetection() != nil,
	}); err != nil {
		return nil, err
	}
	s := &clusterSpec{name: c.GetName()}
	switch c.GetType() {
	case clusterv3.Cluster_EDS:
		if c.GetEdsClusterConfig().GetEdsConfig().GetAds() == nil {
			return nil, errors.New("eds_cluster_config.eds_config must be ads: the sim receives endpoints over its ADS stream only")
		}
		s.edsName = c.GetEdsClusterConfig().GetServiceName()
		if s.edsName == "" {
			s.edsName = c.GetName()
		}
	case clusterv3.Cluster_STATIC:
		eps, err := compileEndpoints(c.GetLoadAssignment())
		if err != nil {
			return nil, err
		}
		s.static = eps
	default:
		return nil, fmt.Errorf("cluster type %s is not implemented by the sim (EDS and STATIC are)", c.GetType())
	}
	return s, nil
}

// endpointSet is a compiled ClusterLoadAssignment: the endpoints traffic
// goes to, chosen as Envoy does without overprovisioning: the lowest
// priority with a healthy endpoint, else the lowest with a degraded one.
type endpointSet struct {
	hosts   []string // virtual IP:port
	weights []uint32
}

type tier struct {
	priority          uint32
	healthy, degraded []weightedHost
}

type weightedHost struct {
	addr   string
	weight uint32
}

func compileEndpoints(cla *endpointv3.ClusterLoadAssignment) (*endpointSet, error) {
	if err := cla.ValidateAll(); err != nil {
		return nil, err
	}
	var tiers []*tier
	byPriority := map[uint32]*tier{}
	for _, loc := range cla.GetEndpoints() {
		t := byPriority[loc.GetPriority()]
		if t == nil {
			t = &tier{priority: loc.GetPriority()}
			byPriority[loc.GetPriority()] = t
			tiers = append(tiers, t)
		}
		for _, lb := range loc.GetLbEndpoints() {
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			if sa == nil || sa.GetPortValue() == 0 {
				return nil, errors.New("only endpoints with a socket address and port_value are implemented by the sim")
			}
			ip, err := netip.ParseAddr(sa.GetAddress())
			if err != nil {
				return nil, fmt.Errorf("endpoint address %q is not an IP (hostnames are not implemented by the sim): %w", sa.GetAddress(), err)
			}
			h := weightedHost{addr: netip.AddrPortFrom(ip, uint16(sa.GetPortValue())).String(), weight: 1}
			if w := lb.GetLoadBalancingWeight(); w != nil {
				h.weight = w.GetValue()
			}
			switch lb.GetHealthStatus() {
			case corev3.HealthStatus_UNKNOWN, corev3.HealthStatus_HEALTHY:
				t.healthy = append(t.healthy, h)
			case corev3.HealthStatus_DEGRADED:
				t.degraded = append(t.degraded, h)
			}
		}
	}
	slices.SortFunc(tiers, func(a, b *tier) int { return int(a.priority) - int(b.priority) })
	set := &endpointSet{}
	pick := func(hs []weightedHost) bool {
		for _, h := range hs {
			set.hosts = append(set.hosts, h.addr)
			set.weights = append(set.weights, h.weight)
		}
		return len(hs) > 0
	}
	for _, t := range tiers {
		if pick(t.healthy) {
			return set, nil
		}
	}
	for _, t := range tiers {
		if pick(t.degraded) {
			return set, nil
		}
	}
	return set, nil
}
