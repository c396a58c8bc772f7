package harness

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/keyconform/keyconform/suites/scenario"
)

// conditionSets returns the condition lists of an object's status that a
// condition expectation applies to: every route parent, a Gateway's (or
// GatewayClass's) own conditions or one of its listeners (when listener is
// set), or every ancestor of a policy.
func conditionSets(u *unstructured.Unstructured, listener string) (map[string][]metav1.Condition, error) {
	var status struct {
		Conditions []metav1.Condition `json:"conditions"`
		Ancestors  []struct {
			AncestorRef json.RawMessage    `json:"ancestorRef"`
			Conditions  []metav1.Condition `json:"conditions"`
		} `json:"ancestors"`
		Parents []struct {
			ParentRef  json.RawMessage    `json:"parentRef"`
			Conditions []metav1.Condition `json:"conditions"`
		} `json:"parents"`
		Listeners []struct {
			Name       string             `json:"name"`
			Conditions []metav1.Condition `json:"conditions"`
		} `json:"listeners"`
	}
	raw, _, err := unstructured.NestedFieldNoCopy(u.Object, "status")
	if err != nil {
		return nil, fmt.Errorf("reading status: %w", err)
	}
	if raw != nil {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("status is a %T, not an object", raw)
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &status); err != nil {
			return nil, fmt.Errorf("reading status: %w", err)
		}
	}
	sets := map[string][]metav1.Condition{}
	if listener != "" {
		for _, l := range status.Listeners {
			if l.Name == listener {
				sets["listener "+l.Name] = l.Conditions
			}
		}
		return sets, nil
	}
	switch u.GetKind() {
	case scenario.HTTPRouteKind.Kind:
		for _, p := range status.Parents {
			sets["parent "+compactJSON(p.ParentRef)] = p.Conditions
		}
	case scenario.GatewayKind.Kind, "GatewayClass":
		sets["status"] = status.Conditions
	default:
		// A policy, whatever its dialect's kind: Gateway API's PolicyStatus.
		for _, a := range status.Ancestors {
			sets["ancestor "+compactJSON(a.AncestorRef)] = a.Conditions
		}
	}
	return sets, nil
}

func compactJSON(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// checkConditions lists how u's status differs from want (rendered
// message fragments in wantMessages). Every ancestor or parent entry must
// carry the condition, for the object's current generation; an object with
// no entry at all does not match.
func checkConditions(u *unstructured.Unstructured, want scenario.Condition, wantMessages []string) []string {
	return checkListenerConditions(u, "", want, wantMessages)
}

// checkListenerConditions is checkConditions for one listener of a Gateway
// (all of the object's entries when listener is empty).
func checkListenerConditions(u *unstructured.Unstructured, listener string, want scenario.Condition, wantMessages []string) []string {
	sets, err := conditionSets(u, listener)
	if err != nil {
		return []string{err.Error()}
	}
	if len(sets) == 0 && listener != "" {
		return []string{fmt.Sprintf("status has no listener %q yet", listener)}
	}
	if len(sets) == 0 {
		return []string{"status has no ancestor/parent entry yet"}
	}
	var diffs []string
	for where, conds := range sets {
		c := meta.FindStatusCondition(conds, want.Type)
		switch {
		case c == nil:
			diffs = append(diffs, fmt.Sprintf("%s: no %s condition", where, want.Type))
			continue
		case c.ObservedGeneration != u.GetGeneration():
			diffs = append(diffs, fmt.Sprintf("%s: %s condition is for generation %d, the object is at %d", where, want.Type, c.ObservedGeneration, u.GetGeneration()))
		}
		if (want.Status != "" && c.Status != want.Status) || (want.Reason != "" && c.Reason != want.Reason) {
			diffs = append(diffs, fmt.Sprintf("%s: %s=%s reason %s (message %q)", where, c.Type, c.Status, c.Reason, c.Message))
		}
		for _, m := range wantMessages {
			if !strings.Contains(c.Message, m) {
				diffs = append(diffs, fmt.Sprintf("%s: message %q does not contain %q", where, c.Message, m))
			}
		}
	}
	slices.Sort(diffs)
	return diffs
}
