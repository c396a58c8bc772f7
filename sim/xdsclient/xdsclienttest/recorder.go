package xdsclienttest

import (
	"errors"
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// recorder is the Client's xdsclient.Handler; a type of its own keeps
// Apply out of the Client's API.
type recorder struct{ c *Client }

// Apply records one response, then subscribes to what an accepted cluster
// or listener response references, as sim/dataplane does.
func (r recorder) Apply(typeURL, version string, resources []*anypb.Any) error {
	c := r.c
	decoded := make(map[string]proto.Message, len(resources))
	for _, a := range resources {
		m, err := a.UnmarshalNew()
		if err != nil {
			return fmt.Errorf("decoding a %s resource: %w", typeURL, err)
		}
		decoded[cachev3.GetResourceName(m)] = m
	}

	c.mu.Lock()
	st := c.state[typeURL]
	if st == nil {
		st = &State{}
		c.state[typeURL] = st
	}
	st.Responses++
	nack, rejecting := c.nack[typeURL]
	delete(c.nack, typeURL)
	if !rejecting {
		st.Version, st.Resources = version, decoded
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()

	if rejecting {
		return errors.New(nack)
	}
	if dep, names := dependents(typeURL, decoded); dep != "" {
		c.xds.Subscribe(dep, names)
	}
	return nil
}

// dependents returns the type and names a CDS or LDS response makes a data
// plane subscribe to, as Envoy does: EDS for EDS clusters (by service name,
// else cluster name), RDS for the route configurations the HTTP connection
// managers name.
func dependents(typeURL string, resources map[string]proto.Message) (string, []string) {
	var names []string
	switch typeURL {
	case resource.ClusterType:
		for name, m := range resources {
			cl := m.(*clusterv3.Cluster)
			if cl.GetType() != clusterv3.Cluster_EDS {
				continue
			}
			if sn := cl.GetEdsClusterConfig().GetServiceName(); sn != "" {
				name = sn
			}
			names = append(names, name)
		}
		return resource.EndpointType, names
	case resource.ListenerType:
		for _, m := range resources {
			for _, fc := range m.(*listenerv3.Listener).GetFilterChains() {
				for _, f := range fc.GetFilters() {
					hcm := &hcmv3.HttpConnectionManager{}
					if f.GetTypedConfig().MessageIs(hcm) && f.GetTypedConfig().UnmarshalTo(hcm) == nil && hcm.GetRds() != nil {
						names = append(names, hcm.GetRds().GetRouteConfigName())
					}
				}
			}
		}
		return resource.RouteType, names
	}
	return "", nil
}
