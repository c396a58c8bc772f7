package dialect

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// Dialect is how one implementation spells API key auth.
type Dialect interface {
	// Name is the --implementation value that selects it.
	Name() string
	// Implementation names the implementation in reports.
	Implementation() string
	// ControllerNames are the GatewayClass controllerNames it is the
	// default dialect for.
	ControllerNames() []string
	// PolicyKind is the kind Render produces: status checks, patches and
	// the key-leak sweep go through it.
	PolicyKind() schema.GroupVersionKind
	// Render returns the policy resource for in, or an *UnsupportedError.
	Render(in *Intent) (*unstructured.Unstructured, error)
}

// All is every dialect, by name.
var All = []Dialect{KGateway{}, EnvoyGateway{}}

// Names lists the dialects' names.
func Names() []string {
	out := make([]string, 0, len(All))
	for _, d := range All {
		out = append(out, d.Name())
	}
	return out
}

// ByName returns the dialect called name.
func ByName(name string) (Dialect, error) {
	for _, d := range All {
		if d.Name() == name {
			return d, nil
		}
	}
	return nil, fmt.Errorf("unknown implementation %q: want one of %s", name, strings.Join(Names(), ", "))
}

// ForController returns the dialect of a GatewayClass controllerName.
func ForController(controllerName string) (Dialect, error) {
	for _, d := range All {
		if slices.Contains(d.ControllerNames(), controllerName) {
			return d, nil
		}
	}
	return nil, fmt.Errorf("no dialect is known for GatewayClass controller %q: pass --implementation=%s", controllerName, strings.Join(Names(), "|"))
}

// Unsupported reports whether err says a dialect cannot express a policy,
// and why.
func Unsupported(err error) (string, bool) {
	var u *UnsupportedError
	if errors.As(err, &u) {
		return u.Reason, true
	}
	return "", false
}

// RenderObject turns one manifest object into what d applies: an intent
// into d's policy, a ReferenceGrant's "from" entries naming the intent kind
// into d's policy kind; anything else is returned as is.
func RenderObject(d Dialect, obj runtime.Object) (runtime.Object, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	gvk := u.GroupVersionKind()
	switch {
	case IsIntent(gvk):
		in, err := FromUnstructured(u)
		if err != nil {
			return nil, err
		}
		return d.Render(in)
	case gvk.Group == gwv1beta1.GroupName && gvk.Kind == "ReferenceGrant":
		return grantFor(d, u)
	}
	return obj, nil
}

// grantFor rewrites the "from" entries of a ReferenceGrant that name the
// intent kind to name d's policy kind.
func grantFor(d Dialect, u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	out := u.DeepCopy()
	from, found, err := unstructured.NestedSlice(out.Object, "spec", "from")
	if err != nil || !found {
		return out, err
	}
	for i, f := range from {
		m, ok := f.(map[string]any)
		if !ok {
			continue
		}
		if m["group"] == IntentKind.Group && m["kind"] == IntentKind.Kind {
			m["group"], m["kind"] = d.PolicyKind().Group, d.PolicyKind().Kind
			from[i] = m
		}
	}
	return out, unstructured.SetNestedSlice(out.Object, from, "spec", "from")
}

// toUnstructured renders a typed object with its kind set.
func toUnstructured(gvk schema.GroupVersionKind, obj any) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	return u, nil
}
