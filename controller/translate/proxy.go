package translate

import (
	"maps"
	"slices"
)

// buildProxy is the complete Envoy configuration of one Gateway: per
// programmed port a listener and its RouteConfiguration, then the EDS
// clusters (and their endpoints) of every valid backend of the routes
// attached to it, and the certificates of its HTTPS listeners.
func buildProxy(ix *index, gw *gatewayModel, ps *policies) Proxy {
	p := Proxy{Gateway: gw.key, NodeID: NodeID(gw.key)}
	ports, byPort := gw.ports()
	backends := map[string]backend{}
	certs := map[string]*certificate{}
	for _, port := range ports {
		p.Listeners = append(p.Listeners, envoyListener(port, byPort[port]))
		p.Routes = append(p.Routes, routeConfiguration(gw, port, byPort[port], ps))
		for _, l := range byPort[port] {
			for _, c := range l.certs {
				certs[secretName(c.secret)] = c
			}
			for _, a := range l.attachments {
				for _, r := range a.route.rules {
					for _, b := range r.backends {
						backends[b.cluster] = b
					}
				}
			}
		}
	}
	names := make([]string, 0, len(backends))
	for name := range backends {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p.Clusters = append(p.Clusters, envoyCluster(name))
		p.Endpoints = append(p.Endpoints, loadAssignment(ix, backends[name]))
	}
	for _, name := range slices.Sorted(maps.Keys(certs)) {
		p.Secrets = append(p.Secrets, envoySecret(certs[name]))
	}
	return p
}
