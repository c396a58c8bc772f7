// Package gatewayapi runs the upstream Gateway API conformance suite
// (sigs.k8s.io/gateway-api/conformance) on the local environment, as the
// oracle for the simulated data plane: Envoy Gateway passes the suite's
// GATEWAY-HTTP core profile on real Envoy, so with its control plane any
// failing core test is a difference between the sim and Envoy. The suite
// runs as published: its infrastructure manifests, its round-tripper,
// requests to each Gateway's status address (a loopback address per
// Gateway in the local environment).
package gatewayapi

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	conformanceflags "sigs.k8s.io/gateway-api/conformance/utils/flags"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"
	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/suites/run"
	"github.com/keyconform/keyconform/suites/targets"
)

// Flags are the runner's own command line. The upstream suite's flags
// (--run-test, --skip-tests, --supported-features, --report-output, ...)
// work too, and win over what the runner sets for the local environment.
type Flags struct {
	Implementation string
	Artifacts      string
	Baseline       string
}

// RegisterFlags defines the runner's flags on fs.
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	fs.StringVar(&f.Implementation, "implementation", "envoy-gateway", "the control plane on the local environment: envoy-gateway (Envoy Gateway v1.9.1) or kgateway (the project's reference controller)")
	fs.StringVar(&f.Artifacts, "artifacts", "", "where the ConformanceReport goes (default $ARTIFACTS, else _artifacts at the repository root)")
	fs.StringVar(&f.Baseline, "baseline", "", "a file of expectedFailures (test: reason), e.g. suites/gatewayapi/baselines/envoy-gateway.yaml: those tests are left out, so that any failure is a regression")
	return f
}

// Options are what a run needs besides the environment's clients.
type Options struct {
	Target    targets.Config
	Suite     suite.ConfigurableOptions
	ReportDir string
}

// profile is the one the runner claims: HTTP routing through Gateways,
// which the sim implements. TLS passthrough, gRPC, TCP and UDP routes, and
// meshes are other profiles.
const profile = suite.GatewayHTTPConformanceProfileName

// Options checks the flags and builds the run's options.
func (f *Flags) Options() (Options, error) {
	impl, ok := targets.SimImplementations[f.Implementation]
	if !ok {
		return Options{}, fmt.Errorf("--implementation=%q: want one of %s", f.Implementation, strings.Join(sets.List(sets.KeySet(targets.SimImplementations)), ", "))
	}
	dir, err := run.ArtifactsDir(f.Artifacts)
	if err != nil {
		return Options{}, err
	}
	o := suite.ConfigurableOptions{
		GatewayClassName:     impl.GatewayClass,
		CleanupBaseResources: true,
		CleanupTestResources: true,
		Mode:                 "default",
		Implementation:       run.SimIdentity(f.Implementation),
		ConformanceProfiles:  []suite.ConformanceProfileName{profile},
		ReportOutputPath:     filepath.Join(dir, "gateway-api-conformance-"+f.Implementation+".yaml"),
	}
	if f.Implementation == "envoy-gateway" {
		// Envoy Gateway v1.9.1 ships and installs Gateway API v1.6.1
		// (experimental); the suite is v1.6.3's, and the report says which
		// CRDs ran.
		o.AllowCRDsMismatch = true
	}
	// The core of the profile, for both: what Envoy Gateway passes on real
	// Envoy and the sim must too. Neither control plane publishes its
	// features on the GatewayClass (Envoy Gateway v1.9.1 leaves
	// status.supportedFeatures unset on purpose), so the suite could not
	// infer them; --supported-features adds extended ones.
	o.SupportedFeatures = features.SetsToNamesSet(features.GatewayCoreFeatures, features.HTTPRouteCoreFeatures).UnsortedList()
	if f.Baseline != "" {
		expected, err := loadBaseline(f.Baseline)
		if err != nil {
			return Options{}, err
		}
		o.SkipTests = append(o.SkipTests, expected...)
	}
	conformanceflags.ApplyAll(&o)
	return Options{
		Target:    targets.Config{Target: targets.Sim, Implementation: f.Implementation, GatewayClass: impl.GatewayClass, Artifacts: filepath.Join(dir, "evidence-gateway-api-"+f.Implementation)},
		Suite:     o,
		ReportDir: dir,
	}, nil
}

// baseline lists the upstream tests known to fail on the sim, each with
// why (docs/conformance/gateway-api.md).
type baseline struct {
	ExpectedFailures map[string]string `json:"expectedFailures"`
}

// loadBaseline reads a baseline; every entry needs a reason.
func loadBaseline(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--baseline: %w", err)
	}
	var b baseline
	if err := yaml.UnmarshalStrict(data, &b); err != nil {
		return nil, fmt.Errorf("--baseline %s: %w", path, err)
	}
	var tests []string
	for test, reason := range b.ExpectedFailures {
		if strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("--baseline %s: %s has no reason: say why it fails on the sim", path, test)
		}
		tests = append(tests, test)
	}
	sort.Strings(tests)
	return tests, nil
}
