package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/suites/dialect"
)

// kind is the kind a scenario's ref names in this run: the dialect's
// policy kind for the intent kind, any other kind as is.
func (x *execution) kind(gvk schema.GroupVersionKind) schema.GroupVersionKind {
	if gvk == PolicyKind {
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
	patched, err := mergeIntent(in, patch)
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

func mergeIntent(in *unstructured.Unstructured, patch []byte) (*unstructured.Unstructured, error) {
	orig, err := json.Marshal(in.Object)
	if err != nil {
		return nil, err
	}
	merged, err := jsonpatch.MergePatch(orig, patch)
	if err != nil {
		return nil, err
	}
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(merged); err != nil {
		return nil, err
	}
	return out, nil
}

// DialectGap says why d cannot express a policy scenario s applies (the
// reason is for the report; the scenario is skipped for d), or "" when d
// expresses every one, patched as the scenario patches them.
func DialectGap(s Scenario, fsys fs.FS, d dialect.Dialect) (string, error) {
	objs, err := PolicyManifests(s, fsys)
	if err != nil {
		return "", err
	}
	check := func(u *unstructured.Unstructured) (string, error) {
		in, err := dialect.FromUnstructured(u)
		if err != nil {
			return "", err
		}
		_, err = d.Render(in)
		if reason, ok := dialect.Unsupported(err); ok {
			return reason, nil
		}
		return "", err
	}
	intents := map[string]*unstructured.Unstructured{}
	for _, u := range objs {
		if u.GroupVersionKind() != PolicyKind {
			continue
		}
		intents[u.GetName()] = u
		if reason, err := check(u); reason != "" || err != nil {
			return reason, err
		}
	}
	rn, err := lintRenderer(s)
	if err != nil {
		return "", err
	}
	for _, st := range flatSteps(s.Steps) {
		p, ok := st.(patchStep)
		if !ok || p.ref.Kind != PolicyKind || intents[p.ref.Name] == nil {
			continue
		}
		text, err := rn.render("patch", p.patch)
		if err != nil {
			return "", err
		}
		body, err := yaml.YAMLToJSON([]byte(text))
		if err != nil {
			return "", err
		}
		patched, err := mergeIntent(intents[p.ref.Name], body)
		if err != nil {
			return "", fmt.Errorf("patch of policy %s: %w", p.ref.Name, err)
		}
		intents[p.ref.Name] = patched
		if reason, err := check(patched); reason != "" || err != nil {
			return reason, err
		}
	}
	return "", nil
}

// PolicyManifests returns every policy intent and ReferenceGrant the
// manifests of s hold, rendered with placeholder namespaces and keys: what
// a dialect has to render for s.
func PolicyManifests(s Scenario, fsys fs.FS) ([]*unstructured.Unstructured, error) {
	rn, err := lintRenderer(s)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, f := range ManifestFiles(s) {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		text, err := rn.render(f, string(raw))
		if err != nil {
			return nil, err
		}
		docs, err := splitYAML(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, doc := range docs {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(doc, &u.Object); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if gvk := u.GroupVersionKind(); gvk == PolicyKind || gvk.Kind == ReferenceGrantKind.Kind {
				out = append(out, u)
			}
		}
	}
	return out, nil
}
