package translate

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Policy condition types and reasons as kgateway reports them on
// TrafficPolicy ancestors.
const (
	policyConditionAttached = "Attached"
	policyReasonValid       = "Valid"
	policyReasonAttached    = "Attached"
	policyReasonOverridden  = "Overridden"
	policyReasonNotFound    = "TargetNotFound"

	// maxAncestors is the API's limit on status.ancestors.
	maxAncestors = 16
)

// status is the policy's status: one ancestor per managed Gateway it
// reaches (a Gateway it targets, or a Gateway its target HTTPRoute is
// attached to), then one per targetRef that names nothing.
func (ps *policies) status(p *policyModel, controller gwv1.GatewayController) gwv1.PolicyStatus {
	gen := p.obj.Generation
	var reached []*gatewayModel
	attachedAt := map[*gatewayModel]bool{}
	for _, t := range p.targets {
		for _, g := range t.gateways {
			if !slices.Contains(reached, g) {
				reached = append(reached, g)
			}
			if t.won || !p.hasAuth() {
				attachedAt[g] = true
			}
		}
	}
	slices.SortFunc(reached, func(a, b *gatewayModel) int { return compareKeys(a.key, b.key) })

	accepted := condition(string(gwv1.PolicyConditionAccepted), true, policyReasonValid, "Policy accepted", gen)
	if p.invalid != "" {
		accepted = condition(string(gwv1.PolicyConditionAccepted), false, string(gwv1.PolicyReasonInvalid),
			"apiKeyAuth is invalid (routes where it applies answer 500 until it is fixed): "+p.invalid, gen)
	}

	var out gwv1.PolicyStatus
	for _, g := range reached {
		attached := condition(policyConditionAttached, true, policyReasonAttached, "Attached to all targets", gen)
		if !attachedAt[g] {
			attached = condition(policyConditionAttached, false, policyReasonOverridden, ps.overriddenBy(p, g), gen)
		}
		out.Ancestors = append(out.Ancestors, gwv1.PolicyAncestorStatus{
			AncestorRef: gwv1.ParentReference{
				Group:     new(gwv1.Group(gatewayGroup)),
				Kind:      new(gwv1.Kind(kindGateway)),
				Namespace: new(gwv1.Namespace(g.key.Namespace)),
				Name:      gwv1.ObjectName(g.key.Name),
			},
			ControllerName: controller,
			Conditions:     []metav1.Condition{accepted, attached},
		})
	}
	for _, m := range p.missing {
		if slices.ContainsFunc(out.Ancestors, func(a gwv1.PolicyAncestorStatus) bool { return parentRefEqual(a.AncestorRef, m.ref) }) {
			continue
		}
		out.Ancestors = append(out.Ancestors, gwv1.PolicyAncestorStatus{
			AncestorRef:    m.ref,
			ControllerName: controller,
			Conditions: []metav1.Condition{
				condition(string(gwv1.PolicyConditionAccepted), false, string(gwv1.PolicyReasonInvalid), m.message, gen),
				condition(policyConditionAttached, false, policyReasonNotFound, "Policy is not attached to targets that could not be resolved", gen),
			},
		})
	}
	if len(out.Ancestors) > maxAncestors {
		out.Ancestors = out.Ancestors[:maxAncestors]
	}
	return out
}

// overriddenBy names the older policies that won the targets p lost on
// Gateway g.
func (ps *policies) overriddenBy(p *policyModel, g *gatewayModel) string {
	var winners []string
	for _, t := range p.targets {
		if slices.Contains(t.gateways, g) {
			if w := ps.winners[t.key]; w != nil && w != p && !slices.Contains(winners, w.key.String()) {
				winners = append(winners, w.key.String())
			}
		}
	}
	return fmt.Sprintf("Overridden by TrafficPolicy %s, which takes precedence at the same target(s) (older, or as old and first by name)",
		strings.Join(winners, ", "))
}

func parentRefEqual(a, b gwv1.ParentReference) bool {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return str((*string)(a.Group)) == str((*string)(b.Group)) &&
		str((*string)(a.Kind)) == str((*string)(b.Kind)) &&
		str((*string)(a.Namespace)) == str((*string)(b.Namespace)) &&
		a.Name == b.Name &&
		str((*string)(a.SectionName)) == str((*string)(b.SectionName))
}
