package translate

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// gatewayModel is one Gateway of a managed class with its validated
// listeners.
type gatewayModel struct {
	obj       *gwv1.Gateway
	key       types.NamespacedName
	listeners []*listenerModel // in spec order
}

// buildGateways returns the Gateways of managed classes, sorted by key.
func buildGateways(ix *index, in *Inputs, classes map[string]bool) []*gatewayModel {
	var out []*gatewayModel
	for i := range in.Gateways {
		gw := &in.Gateways[i]
		if !classes[string(gw.Spec.GatewayClassName)] {
			continue
		}
		g := &gatewayModel{obj: gw, key: keyOf(gw.Namespace, gw.Name)}
		for j := range gw.Spec.Listeners {
			g.listeners = append(g.listeners, newListener(ix, g, &gw.Spec.Listeners[j]))
		}
		markConflicts(g.listeners)
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *gatewayModel) int { return compareKeys(a.key, b.key) })
	return out
}

func (g *gatewayModel) listener(name string) *listenerModel {
	for _, l := range g.listeners {
		if l.name == name {
			return l
		}
	}
	return nil
}

// ports returns the ports of the Gateway's programmed listeners,
// ascending, with those listeners in spec order.
func (g *gatewayModel) ports() ([]int32, map[int32][]*listenerModel) {
	byPort := map[int32][]*listenerModel{}
	var ports []int32
	for _, l := range g.listeners {
		if !l.programmed() {
			continue
		}
		if _, seen := byPort[l.port]; !seen {
			ports = append(ports, l.port)
		}
		byPort[l.port] = append(byPort[l.port], l)
	}
	slices.Sort(ports)
	return ports, byPort
}

// status is the Gateway's status once routes are attached.
func (g *gatewayModel) status(addresses []gwv1.GatewayStatusAddress, ps *policies) gwv1.GatewayStatus {
	gen := g.obj.Generation
	// valid listeners are programmed; rejected ones are not accepted;
	// unresolved ones are accepted but their references do not resolve.
	var valid, rejected, unresolved, invalid []string
	listeners := make([]gwv1.ListenerStatus, 0, len(g.listeners))
	for _, l := range g.listeners {
		switch {
		case l.programmed():
			valid = append(valid, l.name)
		case l.accepted():
			unresolved = append(unresolved, l.name)
		default:
			rejected = append(rejected, l.name)
		}
		if !l.programmed() {
			invalid = append(invalid, l.name)
		}
		listeners = append(listeners, l.status(invalidMessage(ps.invalidAt(listenerTarget(l)))))
	}

	var accepted metav1.Condition
	switch {
	case len(invalid) == 0:
		accepted = condition(string(gwv1.GatewayConditionAccepted), true, string(gwv1.GatewayReasonAccepted), "Gateway is accepted", gen)
	case len(valid) == 0:
		accepted = condition(string(gwv1.GatewayConditionAccepted), false, string(gwv1.GatewayReasonListenersNotValid),
			fmt.Sprintf("no listener is valid: %s (see the listeners' conditions)", strings.Join(invalid, ", ")), gen)
	default:
		msg := fmt.Sprintf("listeners %s are accepted", strings.Join(valid, ", "))
		if len(rejected) > 0 {
			msg += fmt.Sprintf("; listeners %s are not", strings.Join(rejected, ", "))
		}
		if len(unresolved) > 0 {
			msg += fmt.Sprintf("; listeners %s are not programmed: their references do not resolve", strings.Join(unresolved, ", "))
		}
		accepted = condition(string(gwv1.GatewayConditionAccepted), true, string(gwv1.GatewayReasonListenersNotValid),
			msg+" (see their conditions)", gen)
	}

	if why := invalidMessage(ps.invalidAt(targetKey{levelGateway, g.key, ""})); why != "" {
		// kgateway reports the replaced route configuration on the Gateway
		// itself (reportRouteConfigPolicyErrors); Programmed stays as it is.
		accepted = condition(string(gwv1.GatewayConditionAccepted), false, reasonGatewayReplaced, why, gen)
	}

	var programmed metav1.Condition
	switch {
	case len(valid) == 0:
		programmed = condition(string(gwv1.GatewayConditionProgrammed), false, string(gwv1.GatewayReasonInvalid),
			"Gateway has no valid listener to program", gen)
	case len(addresses) == 0:
		programmed = condition(string(gwv1.GatewayConditionProgrammed), false, string(gwv1.GatewayReasonAddressNotAssigned),
			"no address has been assigned to the Gateway's data plane yet; it is reported once the data plane runs", gen)
	default:
		programmed = condition(string(gwv1.GatewayConditionProgrammed), true, string(gwv1.GatewayReasonProgrammed),
			"Gateway is programmed", gen)
	}

	return gwv1.GatewayStatus{
		Addresses:  slices.Clone(addresses),
		Conditions: []metav1.Condition{accepted, programmed},
		Listeners:  listeners,
	}
}

// invalidMessage is the errors of invalid policies, as kgateway words a
// replaced Gateway or listener: the errors alone, joined by "; ".
func invalidMessage(bad []*policyModel) string {
	msgs := make([]string, len(bad))
	for i, p := range bad {
		msgs[i] = p.invalid
	}
	return strings.Join(msgs, "; ")
}
