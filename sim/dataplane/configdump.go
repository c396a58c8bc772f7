package dataplane

import (
	"maps"
	"slices"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/keyconform/keyconform/sim/sensitive"
)

// ConfigDump is the accepted configuration as Envoy's /config_dump shows
// it (clusters, listeners, route configurations, secrets, and endpoints
// when includeEDS), with every sensitive field, such as api_key_auth
// credentials and private keys, redacted as Envoy redacts them.
func (p *Proxy) ConfigDump(includeEDS bool) *adminv3.ConfigDump {
	p.mu.Lock()
	clusters := &adminv3.ClustersConfigDump{VersionInfo: p.versions[resource.ClusterType]}
	for _, name := range slices.Sorted(maps.Keys(p.clusters)) {
		e := p.clusters[name]
		c := &adminv3.ClustersConfigDump_DynamicCluster{VersionInfo: e.version, Cluster: pack(e.msg), LastUpdated: timestamppb.New(e.updated)}
		if p.clusterWarm(e.spec) {
			clusters.DynamicActiveClusters = append(clusters.DynamicActiveClusters, c)
		} else {
			clusters.DynamicWarmingClusters = append(clusters.DynamicWarmingClusters, c)
		}
	}
	listeners := &adminv3.ListenersConfigDump{VersionInfo: p.versions[resource.ListenerType]}
	for _, name := range slices.Sorted(maps.Keys(p.listeners)) {
		e := p.listeners[name]
		state := &adminv3.ListenersConfigDump_DynamicListenerState{VersionInfo: e.version, Listener: pack(e.msg), LastUpdated: timestamppb.New(e.updated)}
		dl := &adminv3.ListenersConfigDump_DynamicListener{Name: name}
		if _, _, warm := p.chainInputs(e.spec); warm {
			dl.ActiveState = state
		} else {
			dl.WarmingState = state
		}
		listeners.DynamicListeners = append(listeners.DynamicListeners, dl)
	}
	routes := &adminv3.RoutesConfigDump{}
	for _, name := range slices.Sorted(maps.Keys(p.routes)) {
		e := p.routes[name]
		routes.DynamicRouteConfigs = append(routes.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{
			VersionInfo: e.version, RouteConfig: pack(e.msg), LastUpdated: timestamppb.New(e.updated),
		})
	}
	// Envoy's secrets dump shows the certificates of TLS listeners, their
	// private keys redacted (a sensitive field, as api_key_auth's keys).
	secrets := &adminv3.SecretsConfigDump{}
	for _, name := range slices.Sorted(maps.Keys(p.secrets)) {
		e := p.secrets[name]
		secrets.DynamicActiveSecrets = append(secrets.DynamicActiveSecrets, &adminv3.SecretsConfigDump_DynamicSecret{
			Name: name, VersionInfo: e.version, Secret: pack(e.msg), LastUpdated: timestamppb.New(e.updated),
		})
	}
	parts := []proto.Message{clusters, listeners, routes, secrets}
	if includeEDS {
		eds := &adminv3.EndpointsConfigDump{}
		for _, name := range slices.Sorted(maps.Keys(p.endpoints)) {
			e := p.endpoints[name]
			eds.DynamicEndpointConfigs = append(eds.DynamicEndpointConfigs, &adminv3.EndpointsConfigDump_DynamicEndpointConfig{
				VersionInfo: e.version, EndpointConfig: pack(e.msg), LastUpdated: timestamppb.New(e.updated),
			})
		}
		parts = append(parts, eds)
	}
	p.mu.Unlock()

	dump := &adminv3.ConfigDump{}
	for _, m := range parts {
		dump.Configs = append(dump.Configs, pack(m))
	}
	sensitive.Redact(dump)
	return dump
}

func (p *Proxy) clusterWarm(c *clusterSpec) bool {
	if c.static != nil {
		return true
	}
	_, ok := p.endpoints[c.edsName]
	return ok
}

func pack(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		// Only generated, registered messages reach here.
		panic(err)
	}
	return a
}
