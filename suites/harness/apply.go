package harness

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/e2e-framework/klient/k8s"

	"github.com/keyconform/keyconform/suites/scenario"
)

// apply creates or replaces the objects of one manifest file.
func (x *execution) apply(ctx context.Context, file string) ([]appliedObject, error) {
	objs, err := decodeManifest(ctx, x.manifests, x.scenario.ManifestPath(file), x.render)
	if err != nil {
		return nil, err
	}
	var out []appliedObject
	for _, o := range objs {
		if u, ok := o.(*unstructured.Unstructured); ok && u.GroupVersionKind() == scenario.PolicyKind {
			x.policies[u.GetNamespace()+"/"+u.GetName()] = u.DeepCopy()
		}
		a, err := x.applyObject(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("applying %s: %w", file, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// applyObject renders one manifest object through the dialect and creates
// or replaces it.
func (x *execution) applyObject(ctx context.Context, o k8s.Object) (appliedObject, error) {
	o, err := x.rendered(o)
	if err != nil {
		return appliedObject{}, err
	}
	if err := x.hooks.apply(o); err != nil {
		return appliedObject{}, err
	}
	if x.tamper != nil {
		x.tamper(o)
	}
	gvk, err := kindOf(o)
	if err != nil {
		return appliedObject{}, err
	}
	a := appliedObject{obj: o, gvk: gvk, verb: "create"}
	for _, b := range x.applied {
		if b.gvk == gvk && b.obj.GetNamespace() == o.GetNamespace() && b.obj.GetName() == o.GetName() {
			a.verb = "update"
		}
	}
	err = withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
		return Apply(ctx, x.res, o)
	})
	if err != nil {
		return appliedObject{}, fmt.Errorf("%s %s/%s: %w", gvk.Kind, o.GetNamespace(), o.GetName(), err)
	}
	x.applied = append(x.applied, a)
	return a, nil
}
