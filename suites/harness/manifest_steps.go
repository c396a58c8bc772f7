package harness

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/suites/scenario"
)

// applyFiles runs Apply: it creates or replaces the objects of files, in
// order, as one change.
func (x *execution) applyFiles(ctx context.Context, files []string) error {
	var verbs []string
	for _, f := range files {
		applied, err := x.apply(ctx, f)
		if err != nil {
			return err
		}
		for _, a := range applied {
			verbs = append(verbs, a.verb+" "+a.gvk.Kind)
		}
	}
	x.mutated(verbs)
	return nil
}

// deleteFiles runs Delete: it deletes the objects of files, as one change.
func (x *execution) deleteFiles(ctx context.Context, files []string) error {
	var verbs []string
	for _, f := range files {
		objs, err := decodeManifest(ctx, x.manifests, x.scenario.ManifestPath(f), x.render)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if o, err = x.rendered(o); err != nil {
				return err
			}
			gvk, err := kindOf(o)
			if err != nil {
				return err
			}
			if err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
				return deleteObject(ctx, x.res, o)
			}); err != nil {
				return fmt.Errorf("deleting %s %s/%s: %w", gvk.Kind, o.GetNamespace(), o.GetName(), err)
			}
			verbs = append(verbs, "delete "+gvk.Kind)
		}
	}
	x.mutated(verbs)
	return nil
}

// patch runs Patch: a merge patch of the object, or of the intent a policy
// was rendered from.
func (x *execution) patch(ctx context.Context, s scenario.PatchStep) error {
	ns, err := x.namespaceOf(s.Ref)
	if err != nil {
		return err
	}
	text, err := x.render.Render("patch", s.MergePatch)
	if err != nil {
		return err
	}
	body, err := yaml.YAMLToJSON([]byte(text))
	if err != nil {
		return fmt.Errorf("patch of %s %s is not YAML: %s", s.Ref.Kind.Kind, s.Ref.Name, x.redactor.Redact(err.Error()))
	}
	if s.Ref.Kind == scenario.PolicyKind {
		return x.patchPolicy(ctx, ns, s.Ref.Name, body)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(s.Ref.Kind)
	u.SetNamespace(ns)
	u.SetName(s.Ref.Name)
	if err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
		return x.res.Patch(ctx, u, k8s.Patch{PatchType: types.MergePatchType, Data: body})
	}); err != nil {
		return fmt.Errorf("patching %s %s/%s: %w", s.Ref.Kind.Kind, ns, s.Ref.Name, err)
	}
	x.mutated([]string{"patch " + s.Ref.Kind.Kind})
	return nil
}
