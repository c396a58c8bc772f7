package reconcile

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

var (
	earlier = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now     = metav1.NewTime(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
)

func cond(typ string, status metav1.ConditionStatus, reason string, at metav1.Time) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: reason, ObservedGeneration: 1, LastTransitionTime: at}
}

func TestMergeConditions(t *testing.T) {
	var zero metav1.Time
	cases := []struct {
		name             string
		current, desired []metav1.Condition
		want             []metav1.Condition
	}{
		{
			name:    "status unchanged keeps the time, even if reason changes",
			current: []metav1.Condition{cond("Accepted", "True", "Accepted", earlier)},
			desired: []metav1.Condition{cond("Accepted", "True", "Valid", zero)},
			want:    []metav1.Condition{cond("Accepted", "True", "Valid", earlier)},
		},
		{
			name:    "status flipped takes now",
			current: []metav1.Condition{cond("Accepted", "True", "Accepted", earlier)},
			desired: []metav1.Condition{cond("Accepted", "False", "Invalid", zero)},
			want:    []metav1.Condition{cond("Accepted", "False", "Invalid", now)},
		},
		{
			name:    "new condition takes now, stale one is dropped",
			current: []metav1.Condition{cond("Old", "True", "Old", earlier)},
			desired: []metav1.Condition{cond("Programmed", "True", "Programmed", zero)},
			want:    []metav1.Condition{cond("Programmed", "True", "Programmed", now)},
		},
		{
			name:    "no desired conditions",
			current: []metav1.Condition{cond("Accepted", "True", "Accepted", earlier)},
			want:    nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mergeConditions(tc.current, tc.desired, now)
			if !equality.Semantic.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestRouteParentsKeepOtherControllersEntries(t *testing.T) {
	const ours, theirs gwv1.GatewayController = "keyconform.dev/controller", "example.com/other"
	ref := func(name string) gwv1.ParentReference { return gwv1.ParentReference{Name: gwv1.ObjectName(name)} }
	entry := func(c gwv1.GatewayController, parent string, cs ...metav1.Condition) gwv1.RouteParentStatus {
		return gwv1.RouteParentStatus{ControllerName: c, ParentRef: ref(parent), Conditions: cs}
	}
	var zero metav1.Time
	cases := []struct {
		name             string
		current, desired []gwv1.RouteParentStatus
		want             []gwv1.RouteParentStatus
	}{
		{
			name:    "first write appends ours after theirs",
			current: []gwv1.RouteParentStatus{entry(theirs, "a", cond("Accepted", "True", "Accepted", earlier))},
			desired: []gwv1.RouteParentStatus{entry(ours, "b", cond("Accepted", "True", "Accepted", zero))},
			want: []gwv1.RouteParentStatus{
				entry(theirs, "a", cond("Accepted", "True", "Accepted", earlier)),
				entry(ours, "b", cond("Accepted", "True", "Accepted", now)),
			},
		},
		{
			name: "ours matched by parent ref keeps its time; theirs for the same parent is not ours",
			current: []gwv1.RouteParentStatus{
				entry(ours, "b", cond("Accepted", "True", "Accepted", earlier)),
				entry(theirs, "b", cond("Accepted", "False", "NotAllowed", earlier)),
			},
			desired: []gwv1.RouteParentStatus{entry(ours, "b", cond("Accepted", "True", "Accepted", zero))},
			want: []gwv1.RouteParentStatus{
				entry(theirs, "b", cond("Accepted", "False", "NotAllowed", earlier)),
				entry(ours, "b", cond("Accepted", "True", "Accepted", earlier)),
			},
		},
		{
			name: "a parent we no longer serve loses our entry only",
			current: []gwv1.RouteParentStatus{
				entry(ours, "b", cond("Accepted", "True", "Accepted", earlier)),
				entry(theirs, "a", cond("Accepted", "True", "Accepted", earlier)),
			},
			want: []gwv1.RouteParentStatus{entry(theirs, "a", cond("Accepted", "True", "Accepted", earlier))},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := routeParents(tc.current, tc.desired, ours, now)
			if !equality.Semantic.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
			// Applying the result again changes nothing: no second write.
			if again := routeParents(got, tc.desired, ours, metav1.NewTime(now.Add(time.Hour))); !equality.Semantic.DeepEqual(again, got) {
				t.Errorf("not a fixed point: %+v", again)
			}
		})
	}
}

func TestPolicyAncestorsKeepOtherControllersEntries(t *testing.T) {
	const ours gwv1.GatewayController = "keyconform.dev/controller"
	theirs := gwv1.PolicyAncestorStatus{ControllerName: "example.com/other", AncestorRef: gwv1.ParentReference{Name: "gw"},
		Conditions: []metav1.Condition{cond("Accepted", "True", "Accepted", earlier)}}
	mine := gwv1.PolicyAncestorStatus{ControllerName: ours, AncestorRef: gwv1.ParentReference{Name: "gw"},
		Conditions: []metav1.Condition{cond("Accepted", "False", "Invalid", metav1.Time{})}}
	got := policyAncestors([]gwv1.PolicyAncestorStatus{theirs}, []gwv1.PolicyAncestorStatus{mine}, ours, now)
	if len(got) != 2 || !equality.Semantic.DeepEqual(got[0], theirs) || got[1].Conditions[0].LastTransitionTime != now {
		t.Errorf("got %+v", got)
	}
}

func TestGatewayStatusMergesListenerConditionsByName(t *testing.T) {
	current := gwv1.GatewayStatus{Listeners: []gwv1.ListenerStatus{
		{Name: "http", Conditions: []metav1.Condition{cond("Programmed", "True", "Programmed", earlier)}},
	}}
	desired := gwv1.GatewayStatus{Listeners: []gwv1.ListenerStatus{
		{Name: "https", Conditions: []metav1.Condition{cond("Programmed", "True", "Programmed", metav1.Time{})}},
		{Name: "http", Conditions: []metav1.Condition{cond("Programmed", "True", "Programmed", metav1.Time{})}},
	}}
	got := gatewayStatus(current, desired, now)
	if got.Listeners[0].Conditions[0].LastTransitionTime != now || got.Listeners[1].Conditions[0].LastTransitionTime != earlier {
		t.Errorf("listener times: %+v", got.Listeners)
	}
	if desired.Listeners[1].Conditions[0].LastTransitionTime != (metav1.Time{}) {
		t.Error("gatewayStatus modified its input")
	}
}

func TestMarkRejectedReplacesProgrammed(t *testing.T) {
	s := gwv1.GatewayStatus{Conditions: []metav1.Condition{
		cond("Accepted", "True", "Accepted", metav1.Time{}),
		cond("Programmed", "True", "Programmed", metav1.Time{}),
	}}
	markRejected(&s, 3)
	if len(s.Conditions) != 2 || s.Conditions[1].Status != metav1.ConditionFalse || s.Conditions[1].Reason != "Invalid" || s.Conditions[1].ObservedGeneration != 3 {
		t.Errorf("got %+v", s.Conditions)
	}
}

func TestSetIfChangedTreatsNilAndEmptyAlike(t *testing.T) {
	var current []gwv1.RouteParentStatus
	if setIfChanged(&current, []gwv1.RouteParentStatus{}) {
		t.Error("nil -> empty counted as a change")
	}
	if !setIfChanged(&current, []gwv1.RouteParentStatus{{ControllerName: "a.b/c"}}) || len(current) != 1 {
		t.Error("a real change was not stored")
	}
}

func TestValidateOptions(t *testing.T) {
	cases := []struct {
		opts Options
		ok   bool
	}{
		{Options{}, true},
		{Options{ControllerName: "example.com/gateway-controller", GatewayClassName: "eg"}, true},
		{Options{ControllerName: "example.com"}, false},
		{Options{ControllerName: "Example.com/x"}, false},
		{Options{ControllerName: "example.com/x y"}, false},
		{Options{GatewayClassName: "Upper"}, false},
	}
	for _, tc := range cases {
		if err := tc.opts.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tc.opts, err, tc.ok)
		}
	}
}
