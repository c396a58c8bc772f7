package translate

import (
	"fmt"
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

	unsupported string // Accepted=False UnsupportedProtocol message
	conflict    string // Conflicted=True HostnameConflict message

	admitsHTTPRoute bool     // allowedRoutes.kinds admits HTTPRoute (the only kind supported)
	invalidKinds    []string // other kinds listed, reported as InvalidRouteKinds

	attachments    []*attachment // one per attached route, in attach order
	attachedRoutes int32
}

func newListener(g *gatewayModel, spec *gwv1.Listener) *listenerModel {
	l := &listenerModel{gateway: g, spec: spec, name: string(spec.Name), port: int32(spec.Port)}
	if spec.Hostname != nil {
		l.hostname = string(*spec.Hostname)
	}
	if spec.Protocol != gwv1.HTTPProtocolType {
		l.unsupported = fmt.Sprintf("protocol %s is not supported: this controller serves HTTP listeners only", spec.Protocol)
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

// markConflicts flags HTTP listeners that share port and hostname: no
// request could tell them apart, so none of them is accepted.
func markConflicts(listeners []*listenerModel) {
	for _, a := range listeners {
		if a.unsupported != "" {
			continue
		}
		var with []string
		for _, b := range listeners {
			if a != b && b.unsupported == "" && a.port == b.port && a.hostname == b.hostname {
				with = append(with, b.name)
			}
		}
		if len(with) > 0 {
			a.conflict = fmt.Sprintf("listener shares port %d and hostname %q with listener(s) %s; give each a distinct hostname or port",
				a.port, domainOf(a.hostname), strings.Join(with, ", "))
		}
	}
}

// usable reports whether the listener is programmed into the data plane.
func (l *listenerModel) usable() bool { return l.unsupported == "" && l.conflict == "" }

// allowsHTTPRoutes reports whether HTTPRoutes may attach at all.
func (l *listenerModel) allowsHTTPRoutes() bool { return l.usable() && l.admitsHTTPRoute }

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
	case l.unsupported != "":
		accepted = condition(string(gwv1.ListenerConditionAccepted), false, string(gwv1.ListenerReasonUnsupportedProtocol), l.unsupported, gen)
	case l.conflict != "":
		accepted = condition(string(gwv1.ListenerConditionAccepted), false, string(gwv1.ListenerReasonHostnameConflict), l.conflict, gen)
	case replaced != "":
		accepted = condition(string(gwv1.ListenerConditionAccepted), false, reasonListenerReplaced, replaced, gen)
	default:
		accepted = condition(string(gwv1.ListenerConditionAccepted), true, string(gwv1.ListenerReasonAccepted), "Listener is accepted", gen)
	}
	if l.conflict != "" {
		conflicted = condition(string(gwv1.ListenerConditionConflicted), true, string(gwv1.ListenerReasonHostnameConflict), l.conflict, gen)
	} else {
		conflicted = condition(string(gwv1.ListenerConditionConflicted), false, string(gwv1.ListenerReasonNoConflicts), "No conflicts", gen)
	}
	if l.usable() {
		programmed = condition(string(gwv1.ListenerConditionProgrammed), true, string(gwv1.ListenerReasonProgrammed), "Listener is programmed", gen)
	} else {
		programmed = condition(string(gwv1.ListenerConditionProgrammed), false, string(gwv1.ListenerReasonInvalid), "Listener is not programmed: see Accepted", gen)
	}
	resolved := condition(string(gwv1.ListenerConditionResolvedRefs), true, string(gwv1.ListenerReasonResolvedRefs), "All references resolved", gen)
	if len(l.invalidKinds) > 0 {
		resolved = condition(string(gwv1.ListenerConditionResolvedRefs), false, string(gwv1.ListenerReasonInvalidRouteKinds),
			fmt.Sprintf("unsupported route kinds %s: only %s/%s is supported", strings.Join(l.invalidKinds, ", "), gatewayGroup, kindHTTPRoute), gen)
	}
	var kinds []gwv1.RouteGroupKind
	if l.unsupported == "" && l.admitsHTTPRoute {
		kinds = []gwv1.RouteGroupKind{httpRouteKind()}
	}
	return gwv1.ListenerStatus{
		Name:           l.spec.Name,
		SupportedKinds: kinds,
		AttachedRoutes: l.attachedRoutes,
		Conditions:     []metav1.Condition{accepted, conflicted, programmed, resolved},
	}
}
