package harness

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestParseParametersRef(t *testing.T) {
	tests := []struct{ in, group, kind, name, wantErr string }{
		{in: "gateway.envoyproxy.io/EnvoyProxy/cluster-ip", group: "gateway.envoyproxy.io", kind: "EnvoyProxy", name: "cluster-ip"},
		{in: "gateway.kgateway.dev/GatewayParameters/no-lb", group: "gateway.kgateway.dev", kind: "GatewayParameters", name: "no-lb"},
		{in: "EnvoyProxy/cluster-ip", wantErr: "want <group>/<kind>/<name>"},
		{in: "g/k/", wantErr: "want <group>/<kind>/<name>"},
	}
	for _, tt := range tests {
		r, err := ParseParametersRef(tt.in)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.in, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.in, err)
		case string(r.Group) != tt.group || string(r.Kind) != tt.kind || r.Name != tt.name:
			t.Errorf("%s: %+v", tt.in, r)
		}
	}
}

// TestHooksApply writes the parameters reference into Gateways and swaps
// the backend image in Deployments, leaving every other container and
// object alone.
func TestHooksApply(t *testing.T) {
	ref, err := ParseParametersRef("gateway.envoyproxy.io/EnvoyProxy/cluster-ip")
	if err != nil {
		t.Fatal(err)
	}
	h := Hooks{GatewayParametersRef: ref, BackendImage: "registry.example/httpbin:v2"}
	gw := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
		"spec": map[string]any{"gatewayClassName": "eg"}}}
	dep := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "httpbin", "image": BackendImage},
			map[string]any{"name": "sidecar", "image": "other:v1"},
		}}}}}}
	for _, o := range []*unstructured.Unstructured{gw, dep} {
		if err := h.apply(o); err != nil {
			t.Fatal(err)
		}
	}
	if name, _, _ := unstructured.NestedString(gw.Object, "spec", "infrastructure", "parametersRef", "name"); name != "cluster-ip" {
		t.Errorf("Gateway parametersRef name %q", name)
	}
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if img := containers[0].(map[string]any)["image"]; img != "registry.example/httpbin:v2" {
		t.Errorf("backend image %v", img)
	}
	if img := containers[1].(map[string]any)["image"]; img != "other:v1" {
		t.Errorf("other container's image changed to %v", img)
	}
	labels, annotations := Hooks{NamespaceLabels: map[string]string{"istio-injection": "enabled"},
		NamespaceAnnotations: map[string]string{"a": "b"}}.namespaceMeta(map[string]string{ScenarioLabel: "valid-key"})
	if labels["istio-injection"] != "enabled" || labels[ScenarioLabel] != "valid-key" || annotations["a"] != "b" {
		t.Errorf("namespace labels %v, annotations %v", labels, annotations)
	}
}
