package scenario

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/keyconform/keyconform/suites/dialect"
	"github.com/keyconform/keyconform/suites/features"
)

// manifestScheme knows every kind a scenario manifest may hold.
var manifestScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(corev1.AddToScheme(s))
	utilruntime.Must(appsv1.AddToScheme(s))
	utilruntime.Must(gwv1.Install(s))
	utilruntime.Must(gwv1beta1.Install(s))
	utilruntime.Must(dialect.AddToScheme(s))
	return s
}()

// Lint checks a scenario without a cluster: Validate, then every manifest
// it applies or deletes renders, decodes strictly (no unknown or duplicate
// field) into a known kind placed in one of its namespaces, and every
// request and status template renders.
func Lint(s Scenario, fsys fs.FS, profile features.Profile) error {
	if err := s.Validate(profile); err != nil {
		return err
	}
	rn, err := lintRenderer(s)
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range ManifestFiles(s) {
		if err := lintManifest(fsys, f, rn); err != nil {
			errs = append(errs, err)
		}
	}
	if objs, err := PolicyManifests(s, fsys); err != nil {
		errs = append(errs, err)
	} else {
		var intents []*dialect.Intent
		for _, u := range objs {
			if u.GroupVersionKind() != PolicyKind {
				continue
			}
			in, err := dialect.FromUnstructured(u)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			intents = append(intents, in)
		}
		errs = append(errs, lintIntentFeatures(s, intents))
	}
	for i, st := range flatSteps(s.Steps) {
		if err := lintStep(st, rn); err != nil {
			errs = append(errs, fmt.Errorf("step %d: %w", i+1, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("scenario %s: %w", s.ShortName, err)
	}
	return nil
}

// lintRenderer renders s's templates with placeholder namespaces and keys,
// to check them without a cluster.
func lintRenderer(s Scenario) (*Renderer, error) {
	ks, err := NewKeySet(s.Keys, s.LiteralKeys)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.ShortName, err)
	}
	return NewRenderer(s, ks, "lint0", "lint"), nil
}

// ManifestFiles lists every manifest file s uses, resolved against the
// manifest tree, without duplicates.
func ManifestFiles(s Scenario) []string {
	names := slices.Clone(s.Manifests)
	for _, st := range flatSteps(s.Steps) {
		switch st := st.(type) {
		case ApplyStep:
			names = append(names, st.Files...)
		case DeleteStep:
			names = append(names, st.Files...)
		}
	}
	var out []string
	for _, n := range names {
		if p := s.ManifestPath(n); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func lintManifest(fsys fs.FS, file string, rn *Renderer) error {
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		return err
	}
	text, err := rn.Render(file, string(raw))
	if err != nil {
		return err
	}
	namespaces := rn.Namespaces()
	strict := serializer.NewCodecFactory(manifestScheme, serializer.EnableStrict).UniversalDeserializer()
	docs, err := splitYAML(text)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if len(docs) == 0 {
		return fmt.Errorf("%s: no object", file)
	}
	for i, doc := range docs {
		obj, gvk, err := strict.Decode(doc, nil, nil)
		if err != nil {
			return fmt.Errorf("%s document %d: %w", file, i+1, err)
		}
		meta, ok := obj.(interface{ GetNamespace() string })
		if !ok || !slices.Contains(namespaces, meta.GetNamespace()) {
			return fmt.Errorf("%s document %d (%s): namespace must be {{.Namespace}} or {{ns \"alias\"}}", file, i+1, gvk.Kind)
		}
	}
	return nil
}

// splitYAML returns the documents of a multi-document YAML text, leaving
// out those holding only comments.
func splitYAML(text string) ([][]byte, error) {
	var docs [][]byte
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(text)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if hasContent(doc) {
			docs = append(docs, doc)
		}
	}
}

func hasContent(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' && string(t) != "---" {
			return true
		}
	}
	return false
}

func lintStep(st Step, rn *Renderer) error {
	switch st := st.(type) {
	case ExpectStep:
		if _, err := st.Request.Render(rn); err != nil {
			return err
		}
		if st.Response.Backend != nil {
			if _, err := st.Response.Backend.Render(rn); err != nil {
				return err
			}
		}
	case ConditionStep:
		for _, m := range st.Condition.MessageContains {
			if _, err := rn.Render("condition message", m); err != nil {
				return err
			}
		}
	case PatchStep:
		if !knownPatchKinds[st.Ref.Kind] {
			return fmt.Errorf("patch of unknown kind %v", st.Ref.Kind)
		}
		if _, err := rn.Render("patch", st.MergePatch); err != nil {
			return err
		}
	}
	return nil
}

var knownPatchKinds = map[schema.GroupVersionKind]bool{SecretKind: true, PolicyKind: true, HTTPRouteKind: true, GatewayKind: true, ReferenceGrantKind: true}
