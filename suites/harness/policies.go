package harness

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/e2e-framework/klient/k8s"

	"github.com/keyconform/keyconform/suites/dialect"
	"github.com/keyconform/keyconform/suites/scenario"
)

// kind is the kind a scenario's ref names in this run: the dialect's
// policy kind for the intent kind, any other kind as is.
func (x *execution) kind(gvk schema.GroupVersionKind) schema.GroupVersionKind {
	if gvk == scenario.PolicyKind {
		return x.dialect.PolicyKind()
	}
	return gvk
}

// rendered is what the run applies for one manifest object.
func (x *execution) rendered(o k8s.Object) (k8s.Object, error) {
	out, err := dialect.RenderObject(x.dialect, o)
	if err != nil {
		return nil, err
	}
	return out.(k8s.Object), nil
}

// patchPolicy applies a JSON merge patch to an applied intent, then
// replaces the policy the dialect renders from the result: patches are
// written against the intent, whatever the implementation's kind.
func (x *execution) patchPolicy(ctx context.Context, namespace, name string, patch []byte) error {
	key := namespace + "/" + name
	in := x.policies[key]
	if in == nil {
		return fmt.Errorf("patch of policy %s: no manifest of the scenario applied it", key)
	}
	patched, err := scenario.MergeIntent(in, patch)
	if err != nil {
		return fmt.Errorf("patch of policy %s: %w", key, err)
	}
	a, err := x.applyObject(ctx, patched)
	if err != nil {
		return fmt.Errorf("patching policy %s: %w", key, err)
	}
	x.policies[key] = patched
	x.mutated([]string{"patch " + a.gvk.Kind})
	return nil
}
