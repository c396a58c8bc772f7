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

	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
	"github.com/keyconform/keyconform/suites/scenarios"
	"github.com/keyconform/keyconform/suites/targets"
)

// Flags, named as in Gateway API conformance where it has one. The cluster
// target's kubeconfig comes from --kubeconfig (controller-runtime registers
// that flag), $KUBECONFIG or ~/.kube/config.
var (
	flagTarget         = flag.String("target", targets.Sim, "where to run: sim (local environment), kind (a kind cluster with the project's controller and Envoy) or cluster (the current kubeconfig, any implementation)")
	flagGatewayClass   = flag.String("gateway-class", targets.SimGatewayClass, "GatewayClass of the implementation under test")
	flagSupported      = flag.String("supported-features", "", "comma-separated extended features the implementation supports (sim and kind run the project's own implementation, which supports them all: there the default is every feature)")
	flagExempt         = flag.String("exempt-features", "", "comma-separated features to leave out")
	flagAllFeatures    = flag.Bool("all-features", false, "claim every feature of the profile")
	flagRunTest        = flag.String("run-test", "", "run only this scenario (by short name), whatever its features")
	flagSkipTests      = flag.String("skip-tests", "", "comma-separated scenarios to skip")
	flagReportOutput   = flag.String("report-output", "", "conformance report file (default $ARTIFACTS/conformance-report-<target>.yaml)")
	flagJUnitOutput    = flag.String("junit-output", "", "JUnit report file (default $ARTIFACTS/junit-<target>.xml)")
	flagOrganization   = flag.String("organization", "keyconform", "implementation's organization, for the report")
	flagProject        = flag.String("project", "keyconform", "implementation's project, for the report")
	flagURL            = flag.String("url", "https://github.com/keyconform/keyconform", "implementation's URL, for the report")
	flagVersion        = flag.String("version", "dev", "implementation's version, for the report")
	flagContact        = flag.String("contact", "@keyconform/maintainers", "comma-separated contacts of the implementation's maintainers, for the report")
	flagMode           = flag.String("mode", "default", "operating mode of the implementation, for the report")
	flagCleanup        = flag.Bool("cleanup", true, "delete what each scenario created when it ends")
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
	selection    harness.Selection
	timeouts     harness.TimeoutConfig
	cleanup      bool
	artifacts    string
	reportOutput string
	junitOutput  string
	report       harness.ReportInput
}

func loadOptions() (options, error) {
	var errs []error
	p := features.APIKeyAuthProfile
	supported, err := p.Parse(*flagSupported)
	errs = append(errs, prefixErr("--supported-features", err))
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
	o := options{
		target: targets.Config{
			Target: *flagTarget, GatewayClass: *flagGatewayClass, Artifacts: artifacts,
			GatewayAddress: address,
			Kind: targets.KindConfig{ClusterName: *flagKindName, NodeImage: *flagKindImage, KeepCluster: *flagKindKeep,
				DeployDir: deployDir, Images: splitList(*flagKindImages), ReadyTimeout: timeouts.GatewayReadyTimeout},
		},
		selection: harness.Selection{Profile: p, Supported: supported, Exempt: exempt, AllFeatures: *flagAllFeatures || ownImplementation(*flagTarget, *flagSupported),
			RunTest: *flagRunTest, SkipTests: splitList(*flagSkipTests)},
		timeouts:     timeouts,
		cleanup:      *flagCleanup,
		artifacts:    artifacts,
		reportOutput: orDefault(*flagReportOutput, filepath.Join(artifacts, "conformance-report-"+*flagTarget+".yaml")),
		junitOutput:  orDefault(*flagJUnitOutput, filepath.Join(artifacts, "junit-"+*flagTarget+".xml")),
		report: harness.ReportInput{
			Implementation: confv1.Implementation{Organization: *flagOrganization, Project: *flagProject, URL: *flagURL,
				Version: *flagVersion, Contact: splitList(*flagContact)},
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

// ownImplementation says the target runs the project's controller, which
// supports the whole profile, and no features were claimed explicitly.
func ownImplementation(target, supported string) bool {
	return (target == targets.Sim || target == targets.Kind) && supported == ""
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
