package targets

import (
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestPlanKind renders the kind target's plan for each implementation,
// provider and cluster config: the command lines it runs (kind, the
// container engine, helm as e2e-framework spells them) and what it does
// through the API, in order. TestKindRunRunsThePlan checks that the run
// runs these very command lines.
func TestPlanKind(t *testing.T) {
	base := KindConfig{ClusterName: "kc", Provider: ProviderDocker, Helm: "helm", ReadyTimeout: 3 * time.Minute,
		Pull: []string{"docker.io/mccutchen/go-httpbin:v2.26.0"}}
	with := func(edit func(*KindConfig)) KindConfig {
		k := base
		edit(&k)
		return k
	}
	const kubeconfig = "--kubeconfig " + KubeconfigPlaceholder
	tests := []struct {
		name  string
		k     KindConfig
		want  []string
		notes []string
	}{
		{name: "project controller on docker (make e2e)", k: with(func(k *KindConfig) {
			k.NodeImage, k.DeployDir, k.Images = "kindest/node:v1.37.0", "/a/deploy", []string{"ghcr.io/keyconform/keyconform-controller:dev"}
		}), want: []string{
			"# kind commands run with KIND_EXPERIMENTAL_PROVIDER=docker",
			"kind create cluster --name kc --image kindest/node:v1.37.0   # an existing cluster of that name is reused as it is",
			"docker pull docker.io/envoyproxy/envoy:v1.40.0   # unless the image is present",
			"docker pull docker.io/mccutchen/go-httpbin:v2.26.0   # unless the image is present",
			"kind load docker-image --name kc docker.io/envoyproxy/envoy:v1.40.0",
			"kind load docker-image --name kc docker.io/mccutchen/go-httpbin:v2.26.0",
			"kind load docker-image --name kc ghcr.io/keyconform/keyconform-controller:dev",
			"install the CRDs of fixtures/crds, wait until established",
			"apply the plain YAML of /a/deploy in file name order, wait for its Deployments",
		}},
		{name: "project controller on podman with a cluster config", k: with(func(k *KindConfig) {
			k.Provider, k.ConfigFile, k.DeployDir = ProviderPodman, "/a/kind.yaml", "/a/deploy"
			k.Images = []string{"ghcr.io/keyconform/keyconform-controller:dev"}
		}), want: []string{
			"# kind commands run with KIND_EXPERIMENTAL_PROVIDER=podman",
			"kind create cluster --name kc --config /a/kind.yaml   # an existing cluster of that name is reused as it is",
			"podman pull docker.io/envoyproxy/envoy:v1.40.0   # unless the image is present",
			"podman pull docker.io/mccutchen/go-httpbin:v2.26.0   # unless the image is present",
			"podman save --format docker-archive -o /s/docker.io_envoyproxy_envoy_v1.40.0.tar docker.io/envoyproxy/envoy:v1.40.0",
			"kind load image-archive --name kc /s/docker.io_envoyproxy_envoy_v1.40.0.tar",
			"podman save --format docker-archive -o /s/docker.io_mccutchen_go-httpbin_v2.26.0.tar docker.io/mccutchen/go-httpbin:v2.26.0",
			"kind load image-archive --name kc /s/docker.io_mccutchen_go-httpbin_v2.26.0.tar",
			"podman save --format docker-archive -o /s/ghcr.io_keyconform_keyconform-controller_dev.tar ghcr.io/keyconform/keyconform-controller:dev",
			"kind load image-archive --name kc /s/ghcr.io_keyconform_keyconform-controller_dev.tar",
			"install the CRDs of fixtures/crds, wait until established",
			"apply the plain YAML of /a/deploy in file name order, wait for its Deployments",
		}},
		{name: "Envoy Gateway, pinned", k: with(func(k *KindConfig) { k.Install = InstallEnvoyGateway }), want: []string{
			"# kind commands run with KIND_EXPERIMENTAL_PROVIDER=docker",
			"kind create cluster --name kc   # an existing cluster of that name is reused as it is",
			"docker pull docker.io/envoyproxy/gateway:v1.9.1   # unless the image is present",
			"docker pull docker.io/envoyproxy/envoy:distroless-v1.39.1   # unless the image is present",
			"docker pull docker.io/mccutchen/go-httpbin:v2.26.0   # unless the image is present",
			"kind load docker-image --name kc docker.io/envoyproxy/gateway:v1.9.1",
			"kind load docker-image --name kc docker.io/envoyproxy/envoy:distroless-v1.39.1",
			"kind load docker-image --name kc docker.io/mccutchen/go-httpbin:v2.26.0",
			"helm upgrade eg oci://docker.io/envoyproxy/gateway-helm --namespace envoy-gateway-system --version v1.9.1 --install --create-namespace" +
				" --set global.images.envoyGateway.image=docker.io/envoyproxy/gateway:v1.9.1 --set global.images.envoyGateway.pullPolicy=IfNotPresent" +
				" --set global.images.envoyProxy.image=docker.io/envoyproxy/envoy:distroless-v1.39.1 --set global.images.envoyProxy.pullPolicy=IfNotPresent" +
				" --wait --timeout 3m0s " + kubeconfig,
			"create or replace EnvoyProxy envoy-gateway-system/keyconform-cluster-ip, GatewayClass eg",
		}},
		{name: "Envoy Gateway, another version", k: with(func(k *KindConfig) { k.Install, k.ChartVersion = InstallEnvoyGateway, "v1.8.0" }), want: []string{
			"# kind commands run with KIND_EXPERIMENTAL_PROVIDER=docker",
			"kind create cluster --name kc   # an existing cluster of that name is reused as it is",
			"docker pull docker.io/envoyproxy/gateway:v1.8.0   # unless the image is present",
			"docker pull docker.io/mccutchen/go-httpbin:v2.26.0   # unless the image is present",
			"kind load docker-image --name kc docker.io/envoyproxy/gateway:v1.8.0",
			"kind load docker-image --name kc docker.io/mccutchen/go-httpbin:v2.26.0",
			"helm upgrade eg oci://docker.io/envoyproxy/gateway-helm --namespace envoy-gateway-system --version v1.8.0 --install --create-namespace" +
				" --set global.images.envoyGateway.image=docker.io/envoyproxy/gateway:v1.8.0 --set global.images.envoyGateway.pullPolicy=IfNotPresent" +
				" --wait --timeout 3m0s " + kubeconfig,
			"create or replace EnvoyProxy envoy-gateway-system/keyconform-cluster-ip, GatewayClass eg",
		}, notes: []string{"Envoy Gateway v1.8.0's Envoy image is not listed here"}},
		{name: "kgateway on podman, helm from bin/, the backend also loaded as built", k: with(func(k *KindConfig) {
			k.Install, k.Provider, k.Helm = InstallKGateway, ProviderPodman, "bin/helm"
			k.Images = []string{"docker.io/mccutchen/go-httpbin:v2.26.0"}
		}), want: []string{
			"# kind commands run with KIND_EXPERIMENTAL_PROVIDER=podman",
			"kind create cluster --name kc   # an existing cluster of that name is reused as it is",
			"podman pull cr.kgateway.dev/kgateway-dev/kgateway:v2.2.8   # unless the image is present",
			"podman pull cr.kgateway.dev/kgateway-dev/envoy-wrapper:v2.2.8   # unless the image is present",
			"podman pull docker.io/mccutchen/go-httpbin:v2.26.0   # unless the image is present",
			"podman save --format docker-archive -o /s/cr.kgateway.dev_kgateway-dev_kgateway_v2.2.8.tar cr.kgateway.dev/kgateway-dev/kgateway:v2.2.8",
			"kind load image-archive --name kc /s/cr.kgateway.dev_kgateway-dev_kgateway_v2.2.8.tar",
			"podman save --format docker-archive -o /s/cr.kgateway.dev_kgateway-dev_envoy-wrapper_v2.2.8.tar cr.kgateway.dev/kgateway-dev/envoy-wrapper:v2.2.8",
			"kind load image-archive --name kc /s/cr.kgateway.dev_kgateway-dev_envoy-wrapper_v2.2.8.tar",
			"podman save --format docker-archive -o /s/docker.io_mccutchen_go-httpbin_v2.26.0.tar docker.io/mccutchen/go-httpbin:v2.26.0",
			"kind load image-archive --name kc /s/docker.io_mccutchen_go-httpbin_v2.26.0.tar",
			"install the gateway.networking.k8s.io CRDs of fixtures/crds, wait until established",
			"bin/helm upgrade kgateway-crds oci://cr.kgateway.dev/kgateway-dev/charts/kgateway-crds --namespace kgateway-system --version v2.2.8" +
				" --install --create-namespace --wait --timeout 3m0s " + kubeconfig,
			"create or replace GatewayParameters kgateway-system/keyconform-cluster-ip",
			"bin/helm upgrade kgateway oci://cr.kgateway.dev/kgateway-dev/charts/kgateway --namespace kgateway-system --version v2.2.8" +
				" --install --create-namespace --set gatewayClassParametersRefs.kgateway.name=keyconform-cluster-ip" +
				" --set gatewayClassParametersRefs.kgateway.namespace=kgateway-system --wait --timeout 3m0s " + kubeconfig,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlanKind(tt.k, "/s")
			if err != nil {
				t.Fatal(err)
			}
			lines := p.Lines()
			var notes []string
			for len(lines) > 0 && strings.HasPrefix(lines[len(lines)-1], "# note: ") {
				notes = append(notes, lines[len(lines)-1])
				lines = lines[:len(lines)-1]
			}
			if !slices.Equal(lines, tt.want) {
				t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
			if len(notes) != len(tt.notes) {
				t.Fatalf("notes %q, want %d", notes, len(tt.notes))
			}
			for i, n := range tt.notes {
				if !strings.Contains(notes[i], n) {
					t.Errorf("note %q, want one saying %q", notes[i], n)
				}
			}
		})
	}
}

// TestInstalledGatewayClassesUseClusterIP: kind has no load balancer, so
// each implementation's GatewayClass must get Gateways ClusterIP Services,
// or no Gateway is ever Programmed.
func TestInstalledGatewayClassesUseClusterIP(t *testing.T) {
	eg, err := PlanKind(KindConfig{ClusterName: "kc", Provider: ProviderDocker, Install: InstallEnvoyGateway}, "/s")
	if err != nil {
		t.Fatal(err)
	}
	objs := eg.Steps[len(eg.Steps)-1].Objects
	if len(objs) != 2 {
		t.Fatalf("objects %v", objs)
	}
	svc, _, _ := unstructured.NestedString(objs[0].Object, "spec", "provider", "kubernetes", "envoyService", "type")
	ref, _, _ := unstructured.NestedMap(objs[1].Object, "spec", "parametersRef")
	controller, _, _ := unstructured.NestedString(objs[1].Object, "spec", "controllerName")
	if svc != "ClusterIP" || ref["kind"] != "EnvoyProxy" || ref["name"] != objs[0].GetName() || ref["namespace"] != objs[0].GetNamespace() ||
		controller != envoyGatewayController || objs[1].GetName() != KindInstalls[InstallEnvoyGateway].GatewayClass {
		t.Errorf("EnvoyProxy service type %q; GatewayClass %s (%s) parametersRef %v", svc, objs[1].GetName(), controller, ref)
	}
	if _, ok := objs[1].Object["status"]; ok {
		t.Error("the GatewayClass carries a status")
	}

	kg, err := PlanKind(KindConfig{ClusterName: "kc", Provider: ProviderDocker, Install: InstallKGateway}, "/s")
	if err != nil {
		t.Fatal(err)
	}
	var params, chart Step
	for _, s := range kg.Steps {
		switch {
		case s.Action == CreateObjects:
			params = s
		case s.Action == HelmInstall && s.Release.Name == "kgateway":
			chart = s
		}
	}
	if len(params.Objects) != 1 {
		t.Fatalf("kgateway's objects: %v", params.Objects)
	}
	svc, _, _ = unstructured.NestedString(params.Objects[0].Object, "spec", "kube", "service", "type")
	name := "gatewayClassParametersRefs.kgateway.name=" + params.Objects[0].GetName()
	if svc != "ClusterIP" || !slices.Contains(chart.Release.Values, name) {
		t.Errorf("GatewayParameters service type %q; chart values %v, want %s", svc, chart.Release.Values, name)
	}
}
