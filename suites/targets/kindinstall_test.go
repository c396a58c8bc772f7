package targets

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/internal/egmodule"
)

// TestEnvoyGatewayInstallMatchesItsChart checks what the kind target tells
// Envoy Gateway's chart against that release's own sources in the module
// cache (the chart published from them is not reachable here): every
// --set key exists in the chart's values, the Envoy image is the one the
// release runs by default, its own image also runs each Envoy pod's
// shutdown manager (so two images are all there is to load), and the
// EnvoyProxy the target creates uses fields its CRD defines.
func TestEnvoyGatewayInstallMatchesItsChart(t *testing.T) {
	inst := KindInstalls[InstallEnvoyGateway]
	if inst.DefaultVersion != egmodule.Version {
		t.Fatalf("pinned %s, the sim runs %s", inst.DefaultVersion, egmodule.Version)
	}
	mod := egmodule.Dir(t, "charts/gateway-helm")
	read := func(rel string) []byte {
		data, err := os.ReadFile(filepath.Join(mod, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	steps := inst.install(inst.DefaultVersion)

	var values map[string]any
	if err := yaml.Unmarshal(read("charts/gateway-helm/values.tmpl.yaml"), &values); err != nil {
		t.Fatal(err)
	}
	for _, kv := range steps[0].Release.Values {
		key, _, _ := strings.Cut(kv, "=")
		if _, found, err := unstructured.NestedFieldNoCopy(values, strings.Split(key, ".")...); !found || err != nil {
			t.Errorf("--set %s: the chart has no value %s (%v)", kv, key, err)
		}
	}

	var envoy string
	if m := regexp.MustCompile(`DefaultEnvoyProxyImage\s*=\s*"([^"@]+)`).FindSubmatch(read("api/v1alpha1/shared_types.go")); m != nil {
		envoy = string(m[1])
	}
	if images, _ := inst.images(inst.DefaultVersion); envoy == "" || !slices.Contains(images, envoy) {
		t.Errorf("Envoy Gateway %s runs Envoy %q by default; the kind target loads %v", inst.DefaultVersion, envoy, images)
	}
	if !regexp.MustCompile(`shutdownManager:\s+image: \{\{ include "eg.image" \. \}\}`).Match(read("charts/gateway-helm/templates/_helpers.tpl")) {
		t.Error("the chart no longer runs the shutdown manager from Envoy Gateway's own image: list its image too")
	}

	// The CRD is a chart template: plain YAML between an if and an end line.
	var lines []string
	for _, l := range strings.Split(string(read("charts/gateway-crds-helm/templates/generated/gateway.envoyproxy.io_envoyproxies.yaml")), "\n") {
		if !strings.HasPrefix(l, "{{") {
			lines = append(lines, l)
		}
	}
	var crd map[string]any
	if err := yaml.Unmarshal([]byte(strings.TrimPrefix(strings.Join(lines, "\n"), "---\n")), &crd); err != nil {
		t.Fatal(err)
	}
	versions, _, _ := unstructured.NestedSlice(crd, "spec", "versions")
	proxy := steps[1].Objects[0]
	_, version, _ := strings.Cut(proxy.GetAPIVersion(), "/")
	var schema map[string]any
	for _, v := range versions {
		if vm, _ := v.(map[string]any); vm["name"] == version {
			schema, _, _ = unstructured.NestedMap(vm, "schema", "openAPIV3Schema")
		}
	}
	path := []string{"spec", "provider", "kubernetes", "envoyService", "type"}
	for _, p := range path {
		schema, _, _ = unstructured.NestedMap(schema, "properties", p)
	}
	enum, _, _ := unstructured.NestedSlice(schema, "enum")
	want, _, _ := unstructured.NestedString(proxy.Object, path...)
	if !slices.Contains(enum, any(want)) {
		t.Errorf("EnvoyProxy %s %s=%q: the CRD allows %v", version, strings.Join(path, "."), want, enum)
	}
}
