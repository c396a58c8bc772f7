package harness

import (
	"fmt"
	"maps"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// BackendImage is the image of the scenarios' backends (go-httpbin); a
// --backend-image replaces it, for registries of one's own.
const BackendImage = "docker.io/mccutchen/go-httpbin:v2.26.0"

// Hooks adapt what scenarios create to a real cluster without changing
// what they test.
type Hooks struct {
	// GatewayParametersRef is written into every Gateway's
	// spec.infrastructure.parametersRef (e.g. a ClusterIP-only parameters
	// object, so no cloud load balancer is made per scenario).
	GatewayParametersRef *gwv1.LocalParametersReference
	// BackendImage replaces BackendImage in scenario Deployments.
	BackendImage string
	// NamespaceLabels and NamespaceAnnotations go on every namespace the
	// suite creates (meshes, PodSecurity admission).
	NamespaceLabels      map[string]string
	NamespaceAnnotations map[string]string
}

// ParseParametersRef reads group/kind/name.
func ParseParametersRef(s string) (*gwv1.LocalParametersReference, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 3 || parts[len(parts)-1] == "" || parts[len(parts)-2] == "" {
		return nil, fmt.Errorf("%q: want <group>/<kind>/<name>, e.g. gateway.envoyproxy.io/EnvoyProxy/cluster-ip", s)
	}
	n := len(parts)
	return &gwv1.LocalParametersReference{Group: gwv1.Group(strings.Join(parts[:n-2], "/")), Kind: gwv1.Kind(parts[n-2]), Name: parts[n-1]}, nil
}

// apply changes o as the hooks say.
func (h Hooks) apply(o k8s.Object) error {
	u, ok := o.(*unstructured.Unstructured)
	if !ok {
		return nil
	}
	switch u.GroupVersionKind().Kind {
	case "Gateway":
		if r := h.GatewayParametersRef; r != nil {
			ref := map[string]any{"group": string(r.Group), "kind": string(r.Kind), "name": r.Name}
			return unstructured.SetNestedMap(u.Object, ref, "spec", "infrastructure", "parametersRef")
		}
	case "Deployment":
		if h.BackendImage != "" {
			return replaceImage(u, BackendImage, h.BackendImage)
		}
	}
	return nil
}

func replaceImage(u *unstructured.Unstructured, from, to string) error {
	containers, _, err := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	if err != nil {
		return err
	}
	for i, c := range containers {
		if m, ok := c.(map[string]any); ok && m["image"] == from {
			m["image"] = to
			containers[i] = m
		}
	}
	return unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers")
}

// namespaceMeta adds the hooks' labels and annotations to a namespace's.
func (h Hooks) namespaceMeta(labels map[string]string) (map[string]string, map[string]string) {
	out := maps.Clone(h.NamespaceLabels)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, labels)
	return out, maps.Clone(h.NamespaceAnnotations)
}
