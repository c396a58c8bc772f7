package translate

import (
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Translate computes the Envoy configuration of every Gateway of a managed
// GatewayClass and the status of every object involved. Equal inputs, in
// any order, give byte-identical output. Returned messages may share
// sub-messages (one policy's credentials appear once however many routes
// use them): treat them as read-only.
//
// Statuses cover: managed GatewayClasses and Gateways; every HTTPRoute (its
// parent statuses for managed Gateways, empty when it has none); every
// TrafficPolicy (its ancestors of this controller, empty when it has none).
func Translate(in Inputs) Output {
	ix := newIndex(&in)
	classes, classStatuses := acceptClasses(&in)
	gateways := buildGateways(ix, &in, classes)
	routes := attachRoutes(ix, &in, gateways)
	ps := resolvePolicies(ix, &in, gateways, routes)

	out := Output{
		GatewayClasses:  classStatuses,
		Gateways:        make(map[types.NamespacedName]gwv1.GatewayStatus, len(gateways)),
		HTTPRoutes:      make(map[types.NamespacedName][]gwv1.RouteParentStatus, len(in.HTTPRoutes)),
		TrafficPolicies: make(map[types.NamespacedName]gwv1.PolicyStatus, len(in.TrafficPolicies)),
	}
	// Proxies first: building routes records the rules they had to drop.
	for _, gw := range gateways {
		out.Proxies = append(out.Proxies, buildProxy(ix, gw, ps))
		out.Gateways[gw.key] = gw.status(in.GatewayAddresses[gw.key], ps)
	}
	for i := range in.HTTPRoutes {
		r := &in.HTTPRoutes[i]
		out.HTTPRoutes[keyOf(r.Namespace, r.Name)] = []gwv1.RouteParentStatus{}
	}
	for _, rm := range routes {
		parents := make([]gwv1.RouteParentStatus, 0, len(rm.parents))
		for _, p := range rm.parents {
			parents = append(parents, p.status(rm, in.ControllerName))
		}
		out.HTTPRoutes[rm.key] = parents
	}
	for _, p := range ps.list {
		out.TrafficPolicies[p.key] = ps.status(p, in.ControllerName)
	}
	return out
}
