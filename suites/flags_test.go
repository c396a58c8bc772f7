package suites

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"

	"github.com/keyconform/keyconform/internal/egmodule"
	"github.com/keyconform/keyconform/suites/dialect"
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
	"github.com/keyconform/keyconform/suites/scenario"
	"github.com/keyconform/keyconform/suites/scenarios"
	"github.com/keyconform/keyconform/suites/targets"
)

// Flags, named as in Gateway API conformance where it has one. The cluster
// target's kubeconfig comes from --kubeconfig (controller-runtime registers
// that flag), $KUBECONFIG or ~/.kube/config.
var (
	flagTarget         = flag.String("target", targets.Sim, "where to run: sim (local environment), kind (a kind cluster with the project's controller and Envoy) or cluster (the current kubeconfig, any implementation)")
	flagGatewayClass   = flag.String("gateway-class", "", "GatewayClass of the implementation under test (default: the sim's for --implementation, else kgateway)")
	flagImpl           = flag.String("implementation", "", "the policy dialect to speak: "+strings.Join(dialect.Names(), ", ")+" (default: from the GatewayClass's controllerName; on sim kgateway, the reference controller; envoy-gateway runs Envoy Gateway's control plane)")
	flagSupported      = flag.String("supported-features", "", "comma-separated extended features the implementation supports (sim and kind run the project's own implementation, which supports them all: there the default is every feature)")
	flagExempt         = flag.String("exempt-features", "", "comma-separated features to leave out")
	flagAllFeatures    = flag.Bool("all-features", false, "claim every feature of the profile")
	flagRunTest        = flag.String("run-test", "", "run only this scenario (by short name), whatever its features")
	flagSkipTests      = flag.String("skip-tests", "", "comma-separated scenarios to skip")
	flagReportOutput   = flag.String("report-output", "", "conformance report file (default $ARTIFACTS/conformance-report-<target>.yaml)")
	flagJUnitOutput    = flag.String("junit-output", "", "JUnit report file (default $ARTIFACTS/junit-<target>.xml)")
	flagOrganization   = flag.String("organization", "", "implementation's organization, for the report (default: the sim's implementation)")
	flagProject        = flag.String("project", "", "implementation's project, for the report (default: the sim's implementation)")
	flagURL            = flag.String("url", "", "implementation's URL, for the report (default: the sim's implementation)")
	flagVersion        = flag.String("version", "", "implementation's version, for the report (default: the sim's implementation)")
	flagContact        = flag.String("contact", "", "comma-separated contacts of the implementation's maintainers, for the report (default: the sim's implementation)")
	flagMode           = flag.String("mode", "default", "operating mode of the implementation, for the report")
	flagCleanup        = flag.Bool("cleanup", true, "delete what each scenario created when it ends")
	flagAllowCRDs      = flag.Bool("allow-crds-mismatch", false, "cluster target: run although the installed Gateway API CRDs are not the version the suites are built against (the report names the installed one)")
	flagContext        = flag.String("context", "", "cluster target: the kubeconfig context to use (default: the current one); --kubeconfig, or $KUBECONFIG (files merged), or ~/.kube/config, is read as kubectl reads it")
	flagGatewayAddress = flag.String("gateway-address", "", "kind/cluster targets: how to reach Gateway listeners: status (the Gateway's status address), port-forward (to the Gateway's Service pods), or a host to use instead of the status address (default: status for cluster, port-forward for kind)")
	flagKindName       = flag.String("kind-cluster-name", "keyconform-e2e", "kind target: cluster name (an existing cluster is reused)")
	flagKindImage      = flag.String("kind-node-image", "", "kind target: kindest/node image (default: kind's)")
	flagKindKeep       = flag.Bool("kind-keep-cluster", false, "kind target: keep the cluster after the run")
	flagKindDeployDir  = flag.String("kind-deploy-dir", "", "kind target: folder of plain YAML installing the controller and Envoy (default $ARTIFACTS/deploy, which `make e2e` renders from fixtures/deploy)")
	flagKindImages     = flag.String("kind-load-images", "", "kind target: comma-separated images to load into the cluster before deploying")

	timeouts = harness.DefaultTimeoutConfig()
)

func init() { timeouts.BindFlags(flag.CommandLine) }

// options is the parsed, validated configuration of a run.
type options struct {
	target       targets.Config
	selection    scenario.Selection
	timeouts     harness.TimeoutConfig
	cleanup      bool
	artifacts    string
	reportOutput string
	junitOutput  string
	// allowCRDs lets the cluster target run on another Gateway API version.
	allowCRDs bool
	// runName names the run's files: the target, and the implementation
	// when it is not the reference one.
	runName string
	report  scenario.ReportInput
}

func loadOptions() (options, error) {
	var errs []error
	p := features.APIKeyAuthProfile
	supported, err := p.Parse(*flagSupported)
	errs = append(errs, prefixErr("--supported-features", err))
	if *flagSupported == "" && *flagTarget == targets.Sim {
		supported = simClaims[*flagImpl]
	}
	exempt, err := p.Parse(*flagExempt)
	errs = append(errs, prefixErr("--exempt-features", err))
	errs = append(errs, prefixErr("timeouts", timeouts.Validate()))

	root, err := repoRoot()
	errs = append(errs, err)
	artifacts := os.Getenv("ARTIFACTS")
	if artifacts == "" {
		artifacts = "_artifacts"
	}
	if !filepath.IsAbs(artifacts) {
		artifacts = filepath.Join(root, artifacts)
	}
	address := *flagGatewayAddress
	if address == "" {
		address = targets.AddressFromStatus
		if *flagTarget == targets.Kind {
			address = targets.AddressPortForward
		}
	}
	deployDir := *flagKindDeployDir
	if deployDir == "" {
		deployDir = filepath.Join(artifacts, "deploy")
	}
	impl := *flagImpl
	if impl != "" {
		_, err := dialect.ByName(impl)
		errs = append(errs, prefixErr("--implementation", err))
	} else if *flagTarget == targets.Sim {
		impl = dialect.KGateway{}.Name()
	}
	gatewayClass := *flagGatewayClass
	if gatewayClass == "" {
		gatewayClass = targets.SimGatewayClass
		if sim, ok := targets.SimImplementations[impl]; ok && *flagTarget == targets.Sim {
			gatewayClass = sim.GatewayClass
		}
	}
	// Reports of runs against another implementation do not overwrite the
	// reference implementation's.
	runName := *flagTarget
	if impl != "" && impl != (dialect.KGateway{}).Name() {
		runName += "-" + impl
	}
	// The cluster target runs any implementation: the report names only
	// what the command line says. Sim and kind run known ones.
	var identity confv1.Implementation
	switch *flagTarget {
	case targets.Sim:
		identity = simIdentity[impl]
	case targets.Kind:
		identity = simIdentity[dialect.KGateway{}.Name()]
	case targets.Cluster:
		var missing []string
		for _, f := range []struct{ name, value string }{{"--organization", *flagOrganization}, {"--project", *flagProject},
			{"--url", *flagURL}, {"--version", *flagVersion}, {"--contact", *flagContact}} {
			if strings.TrimSpace(f.value) == "" {
				missing = append(missing, f.name)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("the cluster target reports on the implementation under test: set %s", strings.Join(missing, ", ")))
		}
	}
	o := options{
		target: targets.Config{
			Target: *flagTarget, GatewayClass: gatewayClass, Implementation: impl, Artifacts: artifacts,
			Kubeconfig: kubeconfigFlag(), Context: *flagContext,
			GatewayAddress: address,
			Kind: targets.KindConfig{ClusterName: *flagKindName, NodeImage: *flagKindImage, KeepCluster: *flagKindKeep,
				DeployDir: deployDir, Images: splitList(*flagKindImages), ReadyTimeout: timeouts.GatewayReadyTimeout},
		},
		selection: scenario.Selection{Profile: p, Supported: supported, Exempt: exempt, AllFeatures: *flagAllFeatures || ownImplementation(*flagTarget, impl, *flagSupported),
			RunTest: *flagRunTest, SkipTests: splitList(*flagSkipTests)},
		timeouts:     timeouts,
		allowCRDs:    *flagAllowCRDs,
		cleanup:      *flagCleanup,
		artifacts:    artifacts,
		runName:      runName,
		reportOutput: orDefault(*flagReportOutput, filepath.Join(artifacts, "conformance-report-"+runName+".yaml")),
		junitOutput:  orDefault(*flagJUnitOutput, filepath.Join(artifacts, "junit-"+runName+".xml")),
		report: scenario.ReportInput{
			Implementation: confv1.Implementation{Organization: orDefault(*flagOrganization, identity.Organization),
				Project: orDefault(*flagProject, identity.Project), URL: orDefault(*flagURL, identity.URL),
				Version: orDefault(*flagVersion, identity.Version), Contact: splitList(orDefault(*flagContact, strings.Join(identity.Contact, ",")))},
			Mode: *flagMode, GatewayAPIVersion: "v1.6.3", GatewayAPIChannel: "standard", Date: time.Now(),
		},
	}
	o.report.Selection = o.selection
	errs = append(errs, o.target.Validate(), o.selection.Check(scenarios.Catalog.All()))
	if err := errors.Join(errs...); err != nil {
		return options{}, fmt.Errorf("invalid flags:\n%w", err)
	}
	return o, nil
}

// kubeconfigFlag is --kubeconfig, which controller-runtime defines for
// every program that links its client configuration.
func kubeconfigFlag() string {
	if f := flag.Lookup("kubeconfig"); f != nil {
		return f.Value.String()
	}
	return ""
}

// simIdentity is who the sim target's control plane is, for the report:
// the project's reference controller, or Envoy Gateway at the version the
// environment builds.
var simIdentity = map[string]confv1.Implementation{
	"kgateway": {Organization: "keyconform", Project: "keyconform", URL: "https://github.com/keyconform/keyconform",
		Version: "dev", Contact: []string{"@keyconform/maintainers"}},
	"envoy-gateway": {Organization: "envoyproxy", Project: "gateway", URL: "https://github.com/envoyproxy/gateway",
		Version: egmodule.Version, Contact: []string{"https://github.com/envoyproxy/gateway/blob/main/GOVERNANCE.md"}},
}

// ownImplementation says the target runs the project's controller, which
// supports the whole profile, and no features were claimed explicitly.
func ownImplementation(target, impl, supported string) bool {
	return (target == targets.Sim && impl == dialect.KGateway{}.Name() || target == targets.Kind) && supported == ""
}

// simClaims are the extended features Envoy Gateway implements, which the
// sim target claims for it unless --supported-features says otherwise: not
// kgateway's label selectors, disable, policy weights, status wording or
// replacement scope (docs/implementations/envoy-gateway.md).
var simClaims = map[string][]features.Name{
	"envoy-gateway": {features.QuerySource, features.CookieSource, features.ClientIDHeader, features.ForwardCredential,
		features.RuleLevel, features.ListenerLevel, features.ReferenceGrant, features.PolicyConflict, features.TargetSelector,
		features.GRPCLocalReply, features.FragmentRejected},
}

func prefixErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// repoRoot is the module root: where relative artifact paths and default
// fixture folders resolve, whichever directory the suite runs from.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: run the suite from inside the repository", dir)
		}
	}
}
