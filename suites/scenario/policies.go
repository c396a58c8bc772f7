package scenario

import (
	"encoding/json"
	"fmt"
	"io/fs"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/suites/dialect"
)

// MergeIntent applies a JSON merge patch to a policy intent: patches are
// written against the intent, whatever the implementation's kind, and the
// dialect renders the result.
func MergeIntent(in *unstructured.Unstructured, patch []byte) (*unstructured.Unstructured, error) {
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
		p, ok := st.(PatchStep)
		if !ok || p.Ref.Kind != PolicyKind || intents[p.Ref.Name] == nil {
			continue
		}
		text, err := rn.Render("patch", p.MergePatch)
		if err != nil {
			return "", err
		}
		body, err := yaml.YAMLToJSON([]byte(text))
		if err != nil {
			return "", err
		}
		patched, err := MergeIntent(intents[p.Ref.Name], body)
		if err != nil {
			return "", fmt.Errorf("patch of policy %s: %w", p.Ref.Name, err)
		}
		intents[p.Ref.Name] = patched
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
		text, err := rn.Render(f, string(raw))
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
