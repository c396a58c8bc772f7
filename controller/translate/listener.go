package translate

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

const (
	kindHTTPRoute = "HTTPRoute"
	kindGateway   = "Gateway"
	kindService   = "Service"
	kindSecret    = "Secret"
)

func httpRouteKind() gwv1.RouteGroupKind {
	return gwv1.RouteGroupKind{Group: new(gwv1.Group(gatewayGroup)), Kind: kindHTTPRoute}
}

// listenerModel is one Gateway listener: whether it can carry routes, why
// not, and what attached to it.
type listenerModel struct {
	gateway  *gatewayModel
	spec     *gwv1.Listener
	name     string
	hostname string // "" = any
	port     int32

	rejected       string // Accepted=False message, with its reason
	rejectedReason gwv1.ListenerConditionReason
	conflict       string // Conflicted=True message, with its reason
	conflictReason gwv1.ListenerConditionReason

	admitsHTTPRoute bool     // allowedRoutes.kinds admits HTTPRoute (the only kind supported)
	invalidKinds    []string // other kinds listed, reported as InvalidRouteKinds

	// certs are an HTTPS listener's certificates, nil unless every
	// certificateRef resolved; badCerts says why one did not.
	certs    []*certificate
	badCerts problems

	attachments    []*attachment // one per attached route, in attach order
	attachedRoutes int32
}

func newListener(ix *index, g *gatewayModel, spec *gwv1.Listener) *listenerModel {
	l := &listenerModel{gateway: g, spec: spec, name: string(spec.Name), port: int32(spec.Port)}
	if spec.Hostname != nil {
		l.hostname = string(*spec.Hostname)
	}
	switch spec.Protocol {
	case gwv1.HTTPProtocolType:
	case gwv1.HTTPSProtocolType:
		if why := terminateProblem(spec.TLS); why != "" {
			l.rejected, l.rejectedReason = why, gwv1.ListenerReasonUnsupportedValue
			return l
		}
		l.certs, l.badCerts = ix.listenerCertificates(g.key, spec.TLS)
	default:
		l.rejected, l.rejectedReason = fmt.Sprintf("protocol %s is not supported: this controller serves HTTP and HTTPS listeners only", spec.Protocol),
			gwv1.ListenerReasonUnsupportedProtocol
		return l
	}
	if spec.AllowedRoutes == nil || len(spec.AllowedRoutes.Kinds) == 0 {
		l.admitsHTTPRoute = true
		return l
	}
	for _, k := range spec.AllowedRoutes.Kinds {
		group := gatewayGroup
		if k.Group != nil {
			group = string(*k.Group)
		}
		if group == gatewayGroup && k.Kind == kindHTTPRoute {
			l.admitsHTTPRoute = true
			continue
		}
		l.invalidKinds = append(l.invalidKinds, group+"/"+string(k.Kind))
	}
	return l
}

// markConflicts flags accepted listeners that no request could tell apart,
// so that none of them is served (Gateway API lets no conflicting listener
// win). On one port, listeners of different protocols all conflict: one
// Envoy listener cannot serve a port both in clear and over TLS. Listeners
// of one protocol conflict when they share a hostname.
func markConflicts(listeners []*listenerModel) {
	for _, a := range listeners {
		if a.rejected != "" {
			continue
		}
		var sameHost, otherProtocol []string
		for _, b := range listeners {
			if a == b || b.rejected != "" || a.port != b.port {
				continue
			}
			switch {
			case a.spec.Protocol != b.spec.Protocol:
				otherProtocol = append(otherProtocol, fmt.Sprintf("%s (%s)", b.name, b.spec.Protocol))
			case a.hostname == b.hostname:
				sameHost = append(sameHost, b.name)
			}
		}
		switch {
		case len(otherProtocol) > 0:
			a.conflict = fmt.Sprintf("listener serves port %d with protocol %s and listener(s) %s serve it with another; give each protocol its own port",
				a.port, a.spec.Protocol, strings.Join(otherProtocol, ", "))
			a.conflictReason = gwv1.ListenerReasonProtocolConflict
		case len(sameHost) > 0:
			a.conflict = fmt.Sprintf("listener shares port %d and hostname %q with listener(s) %s; give each a distinct hostname or port",
				a.port, domainOf(a.hostname), strings.Join(sameHost, ", "))
			a.conflictReason = gwv1.ListenerReasonHostnameConflict
		}
	}
}

// accepted reports whether the listener's spec is valid, supported and
// distinct: routes may attach to it.
func (l *listenerModel) accepted() bool { return l.rejected == "" && l.conflict == "" }

// programmed reports whether the listener is in the data plane: accepted,
// and its certificate references (if any) resolved.
func (l *listenerModel) programmed() bool { return l.accepted() && l.badCerts.empty() }

// allowsHTTPRoutes reports whether HTTPRoutes may attach at all. Gateway
// API counts routes attached to a listener whose references do not
// resolve (GatewayWithAttachedRoutes): they attach, but are not served.
func (l *listenerModel) allowsHTTPRoutes() bool { return l.accepted() && l.admitsHTTPRoute }

// allowsNamespace applies allowedRoutes.namespaces (default: Same).
func (l *listenerModel) allowsNamespace(ix *index, namespace string) bool {
	from := gwv1.NamespacesFromSame
	var selector *metav1.LabelSelector
	if ar := l.spec.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		if ar.Namespaces.From != nil {
			from = *ar.Namespaces.From
		}
		selector = ar.Namespaces.Selector
	}
	switch from {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSame:
		return namespace == l.gateway.key.Namespace
	case gwv1.NamespacesFromSelector:
		if selector == nil {
			return false
		}
		sel, err := metav1.LabelSelectorAsSelector(selector)
		return err == nil && sel.Matches(ix.labelsOf(namespace))
	}
	return false
}

// status is the listener's status; replaced is the errors of invalid
// policies attached to it, which make its virtual hosts answer 500.
func (l *listenerModel) status(replaced string) gwv1.ListenerStatus {
	gen := l.gateway.obj.Generation
	var accepted, conflicted, programmed metav1.Condition
	switch {
	case l.rejected != "":
		accepted = condition(string(gwv1.ListenerConditionAccepted), false, string(l.rejectedReason), l.rejected, gen)
	case l.conflict != "":
		accepted = condition(string(gwv1.ListenerConditionAccepted), false, string(l.conflictReason), l.conflict, gen)
	case replaced != "":
		accepted = condition(string(gwv1.ListenerConditionAccepted), false, reasonListenerReplaced, replaced, gen)
	default:
		accepted = condition(string(gwv1.ListenerConditionAccepted), true, string(gwv1.ListenerReasonAccepted), "Listener is accepted", gen)
	}
	if l.conflict != "" {
		conflicted = condition(string(gwv1.ListenerConditionConflicted), true, string(l.conflictReason), l.conflict, gen)
	} else {
		conflicted = condition(string(gwv1.ListenerConditionConflicted), false, string(gwv1.ListenerReasonNoConflicts), "No conflicts", gen)
	}
	switch {
	case l.programmed():
		programmed = condition(string(gwv1.ListenerConditionProgrammed), true, string(gwv1.ListenerReasonProgrammed), "Listener is programmed", gen)
	case l.accepted():
		programmed = condition(string(gwv1.ListenerConditionProgrammed), false, string(gwv1.ListenerReasonInvalid), "Listener is not programmed: see ResolvedRefs", gen)
	default:
		programmed = condition(string(gwv1.ListenerConditionProgrammed), false, string(gwv1.ListenerReasonInvalid), "Listener is not programmed: see Accepted", gen)
	}
	// Certificate problems come first: they are why the listener is not
	// programmed.
	refs := problems{reason: l.badCerts.reason, msgs: slices.Clone(l.badCerts.msgs)}
	if len(l.invalidKinds) > 0 {
		refs.add(string(gwv1.ListenerReasonInvalidRouteKinds),
			fmt.Sprintf("unsupported route kinds %s: only %s/%s is supported", strings.Join(l.invalidKinds, ", "), gatewayGroup, kindHTTPRoute))
	}
	resolved := condition(string(gwv1.ListenerConditionResolvedRefs), true, string(gwv1.ListenerReasonResolvedRefs), "All references resolved", gen)
	if !refs.empty() {
		resolved = condition(string(gwv1.ListenerConditionResolvedRefs), false, refs.reason, refs.message(), gen)
	}
	var kinds []gwv1.RouteGroupKind
	if l.rejected == "" && l.admitsHTTPRoute {
		kinds = []gwv1.RouteGroupKind{httpRouteKind()}
	}
	return gwv1.ListenerStatus{
		Name:           l.spec.Name,
		SupportedKinds: kinds,
		AttachedRoutes: l.attachedRoutes,
		Conditions:     []metav1.Condition{accepted, conflicted, programmed, resolved},
	}
}
