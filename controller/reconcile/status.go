package reconcile

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The functions here compute the status to write from the translator's
// (whose conditions carry no LastTransitionTime) and the current one. They
// are pure, so "unchanged" is decided by comparing their result with the
// current status.

// mergeConditions returns desired with each LastTransitionTime taken from
// the current condition of the same type when its status is unchanged, and
// set to now otherwise. Current conditions absent from desired are dropped.
func mergeConditions(current, desired []metav1.Condition, now metav1.Time) []metav1.Condition {
	if desired == nil {
		return nil
	}
	out := make([]metav1.Condition, len(desired))
	for i, d := range desired {
		d.LastTransitionTime = now
		if c := meta.FindStatusCondition(current, d.Type); c != nil && c.Status == d.Status {
			d.LastTransitionTime = c.LastTransitionTime
		}
		out[i] = d
	}
	return out
}

func gatewayClassStatus(current, desired gwv1.GatewayClassStatus, now metav1.Time) gwv1.GatewayClassStatus {
	out := *desired.DeepCopy()
	out.Conditions = mergeConditions(current.Conditions, out.Conditions, now)
	return out
}

func gatewayStatus(current, desired gwv1.GatewayStatus, now metav1.Time) gwv1.GatewayStatus {
	out := *desired.DeepCopy()
	out.Conditions = mergeConditions(current.Conditions, out.Conditions, now)
	for i := range out.Listeners {
		var cur []metav1.Condition
		for _, l := range current.Listeners {
			if l.Name == out.Listeners[i].Name {
				cur = l.Conditions
			}
		}
		out.Listeners[i].Conditions = mergeConditions(cur, out.Listeners[i].Conditions, now)
	}
	return out
}

// routeParents keeps other controllers' parent entries in place and
// replaces this controller's with desired.
func routeParents(current, desired []gwv1.RouteParentStatus, controller gwv1.GatewayController, now metav1.Time) []gwv1.RouteParentStatus {
	return mergeEntries(current, desired, now,
		func(p *gwv1.RouteParentStatus) bool { return p.ControllerName == controller },
		func(a, b *gwv1.RouteParentStatus) bool { return equality.Semantic.DeepEqual(a.ParentRef, b.ParentRef) },
		func(p *gwv1.RouteParentStatus) *[]metav1.Condition { return &p.Conditions },
	)
}

// policyAncestors keeps other controllers' ancestor entries in place and
// replaces this controller's with desired.
func policyAncestors(current, desired []gwv1.PolicyAncestorStatus, controller gwv1.GatewayController, now metav1.Time) []gwv1.PolicyAncestorStatus {
	return mergeEntries(current, desired, now,
		func(p *gwv1.PolicyAncestorStatus) bool { return p.ControllerName == controller },
		func(a, b *gwv1.PolicyAncestorStatus) bool {
			return equality.Semantic.DeepEqual(a.AncestorRef, b.AncestorRef)
		},
		func(p *gwv1.PolicyAncestorStatus) *[]metav1.Condition { return &p.Conditions },
	)
}

// mergeEntries is the shared shape of per-controller status lists: others'
// entries first, as they were, then ours, each keeping the transition
// times of our current entry for the same reference.
func mergeEntries[T any, P interface {
	*T
	DeepCopy() P
}](current, desired []T, now metav1.Time,
	ours func(P) bool, sameRef func(a, b P) bool, conditions func(P) *[]metav1.Condition,
) []T {
	var out []T
	for i := range current {
		if !ours(&current[i]) {
			out = append(out, *P(&current[i]).DeepCopy())
		}
	}
	for i := range desired {
		d := P(&desired[i]).DeepCopy()
		var cur []metav1.Condition
		for j := range current {
			if c := P(&current[j]); ours(c) && sameRef(c, d) {
				cur = *conditions(c)
			}
		}
		*conditions(d) = mergeConditions(cur, *conditions(d), now)
		out = append(out, *d)
	}
	return out
}

// markRejected makes a Gateway's status say its configuration was not
// sent to the data plane, which keeps the previous one.
func markRejected(s *gwv1.GatewayStatus, generation int64) {
	c := metav1.Condition{
		Type:               string(gwv1.GatewayConditionProgrammed),
		Status:             metav1.ConditionFalse,
		Reason:             string(gwv1.GatewayReasonInvalid),
		Message:            "The generated Envoy configuration failed validation and was not sent to the data plane, which keeps its previous configuration; the controller log says why.",
		ObservedGeneration: generation,
	}
	for i := range s.Conditions {
		if s.Conditions[i].Type == c.Type {
			s.Conditions[i] = c
			return
		}
	}
	s.Conditions = append(s.Conditions, c)
}
