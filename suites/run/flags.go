package run

import (
	"flag"
	"strings"

	"github.com/keyconform/keyconform/suites/dialect"
	"github.com/keyconform/keyconform/suites/harness"
	"github.com/keyconform/keyconform/suites/targets"
)

// Flags are the suite's command line, named as in Gateway API conformance
// where it has one. The cluster target's kubeconfig comes from --kubeconfig
// (controller-runtime registers that flag), $KUBECONFIG or ~/.kube/config.
type Flags struct {
	Target         string
	GatewayClass   string
	Impl           string
	Supported      string
	Exempt         string
	AllFeatures    bool
	RunTest        string
	SkipTests      string
	ReportOutput   string
	JUnitOutput    string
	Organization   string
	Project        string
	URL            string
	Version        string
	Contact        string
	Mode           string
	Cleanup        bool
	AllowCRDs      bool
	Context        string
	GatewayAddress string
	KindName       string
	KindImage      string
	KindKeep       bool
	KindDeployDir  string
	KindImages     string
	KindConfig     string
	KindProvider   string
	KindInstall    string
	KindChartVer   string
	KindHelm       string

	GatewayParametersRef string
	BackendImage         string
	NamespaceLabels      string
	NamespaceAnnotations string

	Timeouts harness.TimeoutConfig
	fs       *flag.FlagSet
}

// RegisterFlags defines the suite's flags on fs.
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{Timeouts: harness.DefaultTimeoutConfig(), fs: fs}
	fs.StringVar(&f.Target, "target", targets.Sim, "where to run: sim (local environment), kind (a kind cluster with the project's controller and Envoy, or --kind-install's implementation) or cluster (the current kubeconfig, any implementation)")
	fs.StringVar(&f.GatewayClass, "gateway-class", "", "GatewayClass of the implementation under test (default: the sim's for --implementation, --kind-install's, else kgateway)")
	fs.StringVar(&f.Impl, "implementation", "", "the policy dialect to speak: "+strings.Join(dialect.Names(), ", ")+" (default: from the GatewayClass's controllerName; on sim kgateway, the reference controller; envoy-gateway runs Envoy Gateway's control plane; on kind --kind-install's)")
	fs.StringVar(&f.Supported, "supported-features", "", "comma-separated extended features the implementation supports (default: every feature for the project's own implementation (sim, kind) and for kgateway, whose choices they are; on sim or kind with envoy-gateway, those Envoy Gateway implements; on cluster, those the GatewayClass publishes)")
	fs.StringVar(&f.Exempt, "exempt-features", "", "comma-separated features to leave out")
	fs.BoolVar(&f.AllFeatures, "all-features", false, "claim every feature of the profile")
	fs.StringVar(&f.RunTest, "run-test", "", "run only this scenario (by short name), whatever its features")
	fs.StringVar(&f.SkipTests, "skip-tests", "", "comma-separated scenarios to skip")
	fs.StringVar(&f.ReportOutput, "report-output", "", "conformance report file (default $ARTIFACTS/conformance-report-<target>.yaml)")
	fs.StringVar(&f.JUnitOutput, "junit-output", "", "JUnit report file (default $ARTIFACTS/junit-<target>.xml)")
	fs.StringVar(&f.Organization, "organization", "", "implementation's organization, for the report (default: the sim's implementation)")
	fs.StringVar(&f.Project, "project", "", "implementation's project, for the report (default: the sim's implementation)")
	fs.StringVar(&f.URL, "url", "", "implementation's URL, for the report (default: the sim's implementation)")
	fs.StringVar(&f.Version, "version", "", "implementation's version, for the report (default: the sim's implementation)")
	fs.StringVar(&f.Contact, "contact", "", "comma-separated contacts of the implementation's maintainers, for the report (default: the sim's implementation)")
	fs.StringVar(&f.Mode, "mode", "default", "operating mode of the implementation, for the report")
	fs.BoolVar(&f.Cleanup, "cleanup", true, "delete what each scenario created when it ends")
	fs.BoolVar(&f.AllowCRDs, "allow-crds-mismatch", false, "cluster target: run although the installed Gateway API CRDs are not the version the suites are built against (the report names the installed one)")
	fs.StringVar(&f.Context, "context", "", "cluster target: the kubeconfig context to use (default: the current one); --kubeconfig, or $KUBECONFIG (files merged), or ~/.kube/config, is read as kubectl reads it")
	fs.StringVar(&f.GatewayAddress, "gateway-address", "", "kind/cluster targets: how to reach Gateway listeners: status (the Gateway's status address), port-forward (to the Gateway's Service pods), or a host to use instead of the status address (default: status for cluster, port-forward for kind)")
	fs.StringVar(&f.KindName, "kind-cluster-name", "keyconform-e2e", "kind target: cluster name (an existing cluster is reused)")
	fs.StringVar(&f.KindImage, "kind-node-image", "", "kind target: kindest/node image (default: kind's)")
	fs.BoolVar(&f.KindKeep, "kind-keep-cluster", false, "kind target: keep the cluster after the run")
	fs.StringVar(&f.KindDeployDir, "kind-deploy-dir", "", "kind target: folder of plain YAML installing the controller and Envoy (default $ARTIFACTS/deploy, which `make e2e` renders from fixtures/deploy; unused with --kind-install)")
	fs.StringVar(&f.KindImages, "kind-load-images", "", "kind target: comma-separated images to load into the cluster as they are on the host (not pulled), e.g. one you built")
	fs.StringVar(&f.KindConfig, "kind-config", "", "kind target: a kind cluster config file (kind: Cluster) to create the cluster with; an existing cluster is reused as it is")
	fs.StringVar(&f.KindProvider, "kind-provider", "", "kind target: the container engine for kind's nodes and the images, docker or podman (default: $KIND_EXPERIMENTAL_PROVIDER when it names one of them, else docker)")
	fs.StringVar(&f.KindInstall, "kind-install", "", "kind target: install this released implementation from its Helm charts instead of applying --kind-deploy-dir: "+
		strings.Join(targets.KindInstallNames(), ", ")+" (the dialect and GatewayClass follow)")
	fs.StringVar(&f.KindChartVer, "kind-chart-version", "", "kind target: the chart version of --kind-install (default: the pinned one, "+pinnedVersions()+")")
	fs.StringVar(&f.KindHelm, "kind-helm", "helm", "kind target: the helm binary that installs --kind-install's charts (Helm v3; `make tools-helm` builds one into bin/)")
	fs.StringVar(&f.GatewayParametersRef, "gateway-parameters-ref", "", "kind/cluster targets: <group>/<kind>/<name> written into every Gateway's spec.infrastructure.parametersRef (e.g. parameters asking for a ClusterIP Service, so scenarios make no cloud load balancers)")
	fs.StringVar(&f.BackendImage, "backend-image", "", "the scenarios' backend image instead of "+harness.BackendImage+" (a registry of your own)")
	fs.StringVar(&f.NamespaceLabels, "namespace-labels", "", "comma-separated key=value labels for every namespace the suite creates (meshes, PodSecurity)")
	fs.StringVar(&f.NamespaceAnnotations, "namespace-annotations", "", "comma-separated key=value annotations for every namespace the suite creates")
	f.Timeouts.BindFlags(fs)
	return f
}

// pinnedVersions lists each installable implementation's pinned version.
func pinnedVersions() string {
	var out []string
	for _, name := range targets.KindInstallNames() {
		out = append(out, name+" "+targets.KindInstalls[name].DefaultVersion)
	}
	return strings.Join(out, ", ")
}

// kubeconfig is --kubeconfig, which controller-runtime defines for every
// program that links its client configuration.
func (f *Flags) kubeconfig() string {
	if fl := f.fs.Lookup("kubeconfig"); fl != nil {
		return fl.Value.String()
	}
	return ""
}
