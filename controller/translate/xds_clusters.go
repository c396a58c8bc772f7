package translate

import (
	"net/netip"
	"slices"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	discoveryv1 "k8s.io/api/discovery/v1"
)

const connectTimeout = 5 * time.Second

// envoyCluster is the EDS cluster of one Service port.
func envoyCluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsConfigSource()},
		ConnectTimeout:       durationpb.New(connectTimeout),
		LbPolicy:             clusterv3.Cluster_ROUND_ROBIN,
	}
}

// podEndpoint is one ready endpoint address and target port.
type podEndpoint struct {
	addr netip.Addr
	port uint32
}

// loadAssignment lists the ready endpoints of a Service port from its
// EndpointSlices: the slice port named like the Service port gives the
// target port; the first address of each ready endpoint is used as is
// (in the simulated pod network these are virtual pod IPs, mapped by the
// data plane, never rewritten here).
func loadAssignment(ix *index, b backend) *endpointv3.ClusterLoadAssignment {
	var eps []podEndpoint
	for _, es := range ix.slicesByService[b.service] {
		if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		port, ok := slicePort(es, b)
		if !ok {
			continue
		}
		for _, ep := range es.Endpoints {
			if len(ep.Addresses) == 0 || (ep.Conditions.Ready != nil && !*ep.Conditions.Ready) {
				continue
			}
			addr, err := netip.ParseAddr(ep.Addresses[0])
			if err != nil {
				continue
			}
			eps = append(eps, podEndpoint{addr: addr, port: port})
		}
	}
	slices.SortFunc(eps, func(a, b podEndpoint) int {
		if c := a.addr.Compare(b.addr); c != 0 {
			return c
		}
		return int(a.port) - int(b.port)
	})
	eps = slices.Compact(eps)

	cla := &endpointv3.ClusterLoadAssignment{ClusterName: b.cluster}
	if len(eps) == 0 {
		return cla
	}
	locality := &endpointv3.LocalityLbEndpoints{}
	for _, ep := range eps {
		locality.LbEndpoints = append(locality.LbEndpoints, &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
					Address:       ep.addr.String(),
					PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: ep.port},
				}}},
			}},
		})
	}
	cla.Endpoints = []*endpointv3.LocalityLbEndpoints{locality}
	return cla
}

// slicePort finds the slice's port for the Service port (same name, same
// protocol).
func slicePort(es *discoveryv1.EndpointSlice, b backend) (uint32, bool) {
	for _, p := range es.Ports {
		name := ""
		if p.Name != nil {
			name = *p.Name
		}
		if name != b.port.Name || p.Port == nil {
			continue
		}
		if p.Protocol != nil && b.port.Protocol != "" && *p.Protocol != b.port.Protocol {
			continue
		}
		return uint32(*p.Port), true
	}
	return 0, false
}
