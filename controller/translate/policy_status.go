package translate

import (
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

	// Messages kgateway reports (pkg/pluginsdk/reporter).
	policyAcceptedMsg   = "Policy accepted"
	policyAttachedMsg   = "Attached to all targets"
	policyOverriddenMsg = "Overridden due to conflict with higher priority policy in target(s)"
	policyNotFoundMsg   = "Policy is not attached to targets that could not be resolved"

	// statusSummary is the kind and name of the one synthetic ancestor under
	// which kgateway reports targetRefs that resolve to nothing: a missing
	// target has no Gateway to report under (docs/spec.md ST-07).
	statusSummary = "StatusSummary"

	// maxAncestors is the API's limit on status.ancestors.
	maxAncestors = 16
)

// status is the policy's status: one ancestor per managed Gateway it
// reaches (a Gateway it targets, or a Gateway its target HTTPRoute is
// attached to), then the StatusSummary ancestor when targets are missing.
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

	accepted := condition(string(gwv1.PolicyConditionAccepted), true, policyReasonValid, policyAcceptedMsg, gen)
	if p.invalid != "" {
		accepted = condition(string(gwv1.PolicyConditionAccepted), false, string(gwv1.PolicyReasonInvalid), p.invalid, gen)
	}

	var out gwv1.PolicyStatus
	for _, g := range reached {
		attached := condition(policyConditionAttached, true, policyReasonAttached, policyAttachedMsg, gen)
		if !attachedAt[g] {
			attached = condition(policyConditionAttached, false, policyReasonOverridden, policyOverriddenMsg, gen)
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
	limit := maxAncestors
	if len(p.missing) > 0 {
		limit-- // the summary always has room
	}
	if len(out.Ancestors) > limit {
		out.Ancestors = out.Ancestors[:limit]
	}
	if len(p.missing) > 0 {
		out.Ancestors = append(out.Ancestors, gwv1.PolicyAncestorStatus{
			AncestorRef: gwv1.ParentReference{
				Group: new(gwv1.Group(policyGroup)),
				Kind:  new(gwv1.Kind(statusSummary)),
				Name:  statusSummary,
			},
			ControllerName: controller,
			Conditions: []metav1.Condition{
				condition(string(gwv1.PolicyConditionAccepted), false, policyReasonNotFound, strings.Join(p.missing, "; "), gen),
				condition(policyConditionAttached, false, policyReasonNotFound, policyNotFoundMsg, gen),
			},
		})
	}
	return out
}
