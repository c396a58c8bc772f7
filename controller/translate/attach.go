package translate

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// kgateway's Accepted=False reasons (pkg/pluginsdk/reporter): a rule left
// out of the data plane (untranslatable matches), a rule whose routes
// answer 500 because a policy on them is invalid, and a listener or Gateway
// whose virtual hosts or route configuration answer 500 for that reason.
const (
	reasonRouteRuleDropped  = "RouteRuleDropped"
	reasonRouteRuleReplaced = "RouteRuleReplaced"
	reasonListenerReplaced  = "ListenerReplaced"
	reasonGatewayReplaced   = "GatewayReplaced"
)

// attachment is one route attached to one listener, with the hostnames it
// serves there and the parentRefs that attached it.
type attachment struct {
	route     *routeModel
	listener  *listenerModel
	hostnames []string
	parents   []*parentModel
}

// attachRoutes compiles every HTTPRoute that references a managed Gateway
// and attaches it to the listeners that accept it. Routes are returned
// oldest first, the order attachments are made in.
func attachRoutes(ix *index, in *Inputs, gateways []*gatewayModel) []*routeModel {
	byKey := make(map[types.NamespacedName]*gatewayModel, len(gateways))
	for _, g := range gateways {
		byKey[g.key] = g
	}
	var routes []*routeModel
	for i := range in.HTTPRoutes {
		r := &in.HTTPRoutes[i]
		var rm *routeModel
		for j := range r.Spec.ParentRefs {
			ref := &r.Spec.ParentRefs[j]
			gw := byKey[parentGateway(r.Namespace, ref)]
			if gw == nil {
				continue
			}
			if rm == nil {
				rm = compileRoute(ix, r)
			}
			rm.parents = append(rm.parents, &parentModel{ref: *ref, gateway: gw})
		}
		if rm != nil {
			routes = append(routes, rm)
		}
	}
	slices.SortFunc(routes, byAge)
	for _, rm := range routes {
		for _, p := range rm.parents {
			attachParent(ix, rm, p)
		}
	}
	return routes
}

// parentGateway is the Gateway a parentRef names; the zero key when it
// names something else.
func parentGateway(routeNS string, ref *gwv1.ParentReference) types.NamespacedName {
	if (ref.Group != nil && *ref.Group != gatewayGroup) || (ref.Kind != nil && *ref.Kind != kindGateway) {
		return types.NamespacedName{}
	}
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	return keyOf(ns, string(ref.Name))
}

func attachParent(ix *index, rm *routeModel, p *parentModel) {
	gw := p.gateway
	var candidates []*listenerModel
	for _, l := range gw.listeners {
		if p.ref.SectionName != nil && string(*p.ref.SectionName) != l.name {
			continue
		}
		if p.ref.Port != nil && int32(*p.ref.Port) != l.port {
			continue
		}
		candidates = append(candidates, l)
	}
	if len(candidates) == 0 {
		p.notAccepted.add(string(gwv1.RouteReasonNoMatchingParent),
			fmt.Sprintf("Gateway %s has no listener%s", gw.key, describeSection(&p.ref)))
		return
	}
	var allowed []*listenerModel
	for _, l := range candidates {
		if l.allowsHTTPRoutes() && l.allowsNamespace(ix, rm.key.Namespace) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		p.notAccepted.add(string(gwv1.RouteReasonNotAllowedByListeners),
			fmt.Sprintf("no valid listener%s of Gateway %s allows HTTPRoutes from namespace %s",
				describeSection(&p.ref), gw.key, rm.key.Namespace))
		return
	}
	attached := false
	for _, l := range allowed {
		if hosts := effectiveHostnames(l.hostname, rm.obj.Spec.Hostnames); len(hosts) > 0 {
			l.attach(rm, hosts, p)
			attached = true
		}
	}
	if !attached {
		names := make([]string, 0, len(allowed))
		for _, l := range allowed {
			names = append(names, fmt.Sprintf("%s (%s)", l.name, domainOf(l.hostname)))
		}
		p.notAccepted.add(string(gwv1.RouteReasonNoMatchingListenerHostname),
			fmt.Sprintf("no hostname of the route intersects the hostname of listener(s) %s of Gateway %s",
				strings.Join(names, ", "), gw.key))
		return
	}
	for _, rule := range rm.rules {
		if len(rule.dropped) > 0 {
			p.drop(rule.index, reasonRouteRuleDropped, strings.Join(rule.dropped, "; "))
		}
	}
}

func describeSection(ref *gwv1.ParentReference) string {
	var parts []string
	if ref.SectionName != nil {
		parts = append(parts, fmt.Sprintf("named %q", *ref.SectionName))
	}
	if ref.Port != nil {
		parts = append(parts, fmt.Sprintf("on port %d", *ref.Port))
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, " ")
}

// attach adds a route to the listener once, however many parentRefs select
// the listener.
func (l *listenerModel) attach(rm *routeModel, hostnames []string, p *parentModel) {
	for _, a := range l.attachments {
		if a.route == rm {
			if !slices.Contains(a.parents, p) {
				a.parents = append(a.parents, p)
			}
			return
		}
	}
	l.attachments = append(l.attachments, &attachment{route: rm, listener: l, hostnames: hostnames, parents: []*parentModel{p}})
	l.attachedRoutes++
}
