package targets

import (
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Implementations the kind target installs from their released Helm charts
// (--kind-install) instead of the project's controller. Their names are
// their dialects'.
const (
	InstallKGateway     = "kgateway"
	InstallEnvoyGateway = "envoy-gateway"
)

// KindInstall is a released implementation: its charts, the images its
// pinned release runs, and what the kind target adds so that its Gateways
// work on kind.
type KindInstall struct {
	// DefaultVersion is the chart (and release) version installed unless
	// --kind-chart-version says otherwise.
	DefaultVersion string
	// GatewayClass is the class the suites use: made by the
	// implementation, or by the target when the implementation makes none.
	GatewayClass string
	// images are those the release runs, pulled on the host and loaded
	// into the cluster so that the cluster pulls nothing during the run;
	// note says what could not be listed for that version.
	images func(version string) (images []string, note string)
	// install is the steps after the images are loaded.
	install func(version string) []Step
}

// KindInstalls are the implementations --kind-install accepts.
var KindInstalls = map[string]KindInstall{
	InstallKGateway: {
		// The latest patch release known here of v2.2, kgateway's first
		// release line whose TrafficPolicy has apiKeyAuth as the suites
		// write it (the field's name and its disable came in v2.2.0).
		DefaultVersion: "v2.2.8",
		// kgateway's controller creates it.
		GatewayClass: "kgateway",
		images:       kgatewayImages,
		install:      kgatewaySteps,
	},
	InstallEnvoyGateway: {
		// The release the sim target runs (internal/egmodule).
		DefaultVersion: "v1.9.1",
		GatewayClass:   EnvoyGatewayClass,
		images:         envoyGatewayImages,
		install:        envoyGatewaySteps,
	},
}

// KindInstallNames lists KindInstalls, for messages and help.
func KindInstallNames() []string { return slices.Sorted(maps.Keys(KindInstalls)) }

// clusterIPParameters names the parameters objects the target creates for
// an implementation's GatewayClass: kind has no load balancer, so Gateway
// Services of type LoadBalancer never get an address and their Gateways
// never become Programmed; with ClusterIP Services the cluster IP is the
// address, and the suites reach Gateways by port-forward anyway.
const clusterIPParameters = "keyconform-cluster-ip"

// kgateway: the controller and the Envoy image it provisions Gateways
// with, both tagged with the release version from kgateway's registry (its
// chart's defaults). Its sds image serves only the Istio integration,
// which stays off.
const (
	kgatewayNamespace = "kgateway-system"
	kgatewayRegistry  = "cr.kgateway.dev/kgateway-dev"
	kgatewayCharts    = "oci://" + kgatewayRegistry + "/charts"
)

func kgatewayImages(version string) ([]string, string) {
	return []string{kgatewayRegistry + "/kgateway:" + version, kgatewayRegistry + "/envoy-wrapper:" + version}, ""
}

// kgatewaySteps: kgateway's charts bring its own CRDs but not Gateway
// API's, which come from fixtures/crds (the version the suites are built
// against); the ClusterIP GatewayParameters needs the first chart's CRD
// and must exist before the controller, which reads it through the
// chart's gatewayClassParametersRefs, starts.
func kgatewaySteps(version string) []Step {
	params := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.kgateway.dev/v1alpha1", "kind": "GatewayParameters",
		"metadata": map[string]any{"name": clusterIPParameters, "namespace": kgatewayNamespace},
		"spec":     map[string]any{"kube": map[string]any{"service": map[string]any{"type": "ClusterIP"}}},
	}}
	return []Step{
		{Action: InstallCRDs, CRDGroup: gwv1.GroupName},
		{Action: HelmInstall, Release: HelmRelease{Name: "kgateway-crds", Chart: kgatewayCharts + "/kgateway-crds",
			Namespace: kgatewayNamespace, Version: version}},
		{Action: CreateObjects, Objects: []*unstructured.Unstructured{params}},
		{Action: HelmInstall, Release: HelmRelease{Name: "kgateway", Chart: kgatewayCharts + "/kgateway",
			Namespace: kgatewayNamespace, Version: version, Values: []string{
				"gatewayClassParametersRefs.kgateway.name=" + clusterIPParameters,
				"gatewayClassParametersRefs.kgateway.namespace=" + kgatewayNamespace,
			}}},
	}
}

// Envoy Gateway: its own image (control plane, certgen job and each Envoy
// pod's shutdown-manager) and the Envoy image of its data planes. The
// chart is told both by tag: Envoy Gateway's built-in Envoy image is
// pinned by digest, which an image loaded from a `docker save` archive
// cannot satisfy (the archive's manifest digest is not the registry's),
// so the cluster would pull it.
const (
	envoyGatewayNamespace = "envoy-gateway-system"
	envoyGatewayChart     = "oci://docker.io/envoyproxy/gateway-helm"
	envoyGatewayImage     = "docker.io/envoyproxy/gateway"
)

// envoyGatewayEnvoyImages maps the pinned release to the Envoy it runs
// (its DefaultEnvoyProxyImage, without the digest).
var envoyGatewayEnvoyImages = map[string]string{
	"v1.9.1": "docker.io/envoyproxy/envoy:distroless-v1.39.1",
}

func envoyGatewayImages(version string) ([]string, string) {
	images := []string{envoyGatewayImage + ":" + version}
	envoy, ok := envoyGatewayEnvoyImages[version]
	if !ok {
		return images, fmt.Sprintf("Envoy Gateway %s's Envoy image is not listed here (suites/targets/kindinstall.go): "+
			"the chart keeps its default and the cluster pulls that image when the first Gateway is made", version)
	}
	return append(images, envoy), ""
}

func envoyGatewaySteps(version string) []Step {
	values := []string{
		"global.images.envoyGateway.image=" + envoyGatewayImage + ":" + version,
		"global.images.envoyGateway.pullPolicy=IfNotPresent",
	}
	if envoy, ok := envoyGatewayEnvoyImages[version]; ok {
		values = append(values, "global.images.envoyProxy.image="+envoy, "global.images.envoyProxy.pullPolicy=IfNotPresent")
	}
	proxy := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "EnvoyProxy",
		"metadata": map[string]any{"name": clusterIPParameters, "namespace": envoyGatewayNamespace},
		"spec": map[string]any{"provider": map[string]any{"type": "Kubernetes",
			"kubernetes": map[string]any{"envoyService": map[string]any{"type": "ClusterIP"}}}},
	}}
	ns := gwv1.Namespace(envoyGatewayNamespace)
	class := mustUnstructured(envoyGatewayClass(&gwv1.ParametersReference{Group: "gateway.envoyproxy.io", Kind: "EnvoyProxy",
		Name: clusterIPParameters, Namespace: &ns}))
	return []Step{
		// The chart brings Envoy Gateway's CRDs and Gateway API's (the
		// experimental channel of the version it bundles).
		{Action: HelmInstall, Release: HelmRelease{Name: "eg", Chart: envoyGatewayChart, Namespace: envoyGatewayNamespace,
			Version: version, Values: values}},
		{Action: CreateObjects, Objects: []*unstructured.Unstructured{proxy, class}},
	}
}

// mustUnstructured converts a typed object built in code, without the
// empty status a create would not take.
func mustUnstructured(obj runtime.Object) *unstructured.Unstructured {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		panic(fmt.Sprintf("converting %T: %v", obj, err))
	}
	delete(m, "status")
	return &unstructured.Unstructured{Object: m}
}
