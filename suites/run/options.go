package run

import (
	"errors"
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

// Options is the parsed, validated configuration of a run.
type Options struct {
	Target    targets.Config
	Selection scenario.Selection
	Timeouts  harness.TimeoutConfig
	Cleanup   bool
	Artifacts string
	// Evidence is the folder of the run's own logs and data plane dumps,
	// under Artifacts: what the run's leak scan reads besides its reports.
	Evidence     string
	ReportOutput string
	JUnitOutput  string
	// Hooks adapt scenario objects to a real cluster.
	Hooks harness.Hooks
	// claimsGiven says the command line claimed features (or all).
	claimsGiven bool
	// allowCRDs lets the cluster target run on another Gateway API version.
	AllowCRDs bool
	// runName names the run's files: the target, and the implementation
	// when it is not the reference one.
	RunName string
	Report  scenario.ReportInput
}

func (f *Flags) Options() (Options, error) {
	var errs []error
	p := features.APIKeyAuthProfile
	supported, err := p.Parse(f.Supported)
	errs = append(errs, prefixErr("--supported-features", err))
	exempt, err := p.Parse(f.Exempt)
	errs = append(errs, prefixErr("--exempt-features", err))
	errs = append(errs, prefixErr("timeouts", f.Timeouts.Validate()))

	artifacts, err := ArtifactsDir("")
	errs = append(errs, err)
	address := f.GatewayAddress
	if address == "" {
		address = targets.AddressFromStatus
		if f.Target == targets.Kind {
			address = targets.AddressPortForward
		}
	}
	install := f.KindInstall
	kind, err := f.kindConfig(artifacts)
	errs = append(errs, err)
	impl := f.Impl
	if impl != "" {
		_, err := dialect.ByName(impl)
		errs = append(errs, prefixErr("--implementation", err))
	} else if f.Target == targets.Sim {
		impl = dialect.KGateway{}.Name()
	} else if f.Target == targets.Kind {
		impl = install
	}
	gatewayClass := f.GatewayClass
	if gatewayClass == "" {
		gatewayClass = targets.SimGatewayClass
		if sim, ok := targets.SimImplementations[impl]; ok && f.Target == targets.Sim {
			gatewayClass = sim.GatewayClass
		}
		if inst, ok := targets.KindInstalls[install]; ok && f.Target == targets.Kind {
			gatewayClass = inst.GatewayClass
		}
	}
	// Reports of runs against another implementation do not overwrite the
	// reference implementation's (kind's installed kgateway included).
	runName := f.Target
	if f.Target == targets.Kind && install != "" {
		runName += "-" + install
	} else if impl != "" && impl != (dialect.KGateway{}).Name() {
		runName += "-" + impl
	}
	allFeatures := f.AllFeatures
	if f.Supported == "" {
		all, some := defaultClaims(f.Target, impl, install)
		supported, allFeatures = some, allFeatures || all
	}
	// The cluster target runs any implementation: the report names only
	// what the command line says. Sim and kind run known ones.
	var identity confv1.Implementation
	switch f.Target {
	case targets.Sim:
		identity = simIdentity[impl]
	case targets.Kind:
		identity = simIdentity[dialect.KGateway{}.Name()]
		if install != "" {
			identity = installedIdentity(install, kind.InstalledVersion())
		}
	case targets.Cluster:
		var missing []string
		for _, f := range []struct{ name, value string }{{"--organization", f.Organization}, {"--project", f.Project},
			{"--url", f.URL}, {"--version", f.Version}, {"--contact", f.Contact}} {
			if strings.TrimSpace(f.value) == "" {
				missing = append(missing, f.name)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("the cluster target reports on the implementation under test: set %s", strings.Join(missing, ", ")))
		}
	}
	o := Options{
		Target: targets.Config{
			Target: f.Target, GatewayClass: gatewayClass, Implementation: impl, Artifacts: filepath.Join(artifacts, "evidence-"+runName),
			Kubeconfig: f.kubeconfig(), Context: f.Context,
			GatewayAddress: address,
			Kind:           kind,
		},
		Selection: scenario.Selection{Profile: p, Supported: supported, Exempt: exempt, AllFeatures: allFeatures,
			RunTest: f.RunTest, SkipTests: splitList(f.SkipTests)},
		Timeouts:     f.Timeouts,
		AllowCRDs:    f.AllowCRDs,
		Cleanup:      f.Cleanup,
		Artifacts:    artifacts,
		Evidence:     filepath.Join(artifacts, "evidence-"+runName),
		RunName:      runName,
		ReportOutput: orDefault(f.ReportOutput, filepath.Join(artifacts, "conformance-report-"+runName+".yaml")),
		JUnitOutput:  orDefault(f.JUnitOutput, filepath.Join(artifacts, "junit-"+runName+".xml")),
		Report: scenario.ReportInput{
			Implementation: confv1.Implementation{Organization: orDefault(f.Organization, identity.Organization),
				Project: orDefault(f.Project, identity.Project), URL: orDefault(f.URL, identity.URL),
				Version: orDefault(f.Version, identity.Version), Contact: splitList(orDefault(f.Contact, strings.Join(identity.Contact, ",")))},
			Mode: f.Mode, GatewayAPIVersion: "v1.6.3", GatewayAPIChannel: "standard", Date: time.Now(),
		},
	}
	o.Report.Selection = o.Selection
	o.claimsGiven = f.Supported != "" || o.Selection.AllFeatures
	o.Hooks.BackendImage = f.BackendImage
	if f.GatewayParametersRef != "" {
		ref, err := harness.ParseParametersRef(f.GatewayParametersRef)
		errs = append(errs, prefixErr("--gateway-parameters-ref", err))
		o.Hooks.GatewayParametersRef = ref
	}
	o.Hooks.NamespaceLabels, err = keyValues(f.NamespaceLabels)
	errs = append(errs, prefixErr("--namespace-labels", err))
	o.Hooks.NamespaceAnnotations, err = keyValues(f.NamespaceAnnotations)
	errs = append(errs, prefixErr("--namespace-annotations", err))
	errs = append(errs, o.Target.Validate(), o.Selection.Check(scenarios.Catalog.All()))
	if err := errors.Join(errs...); err != nil {
		return Options{}, fmt.Errorf("invalid flags:\n%w", err)
	}
	return o, nil
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

// SimIdentity is who the sim target runs for a dialect (kgateway: the
// project's reference controller; envoy-gateway: Envoy Gateway), as
// reports name it.
func SimIdentity(dialect string) confv1.Implementation { return simIdentity[dialect] }

// kgatewayIdentity is kgateway's, for the report of the kind target with
// --kind-install=kgateway (the version is the chart's).
var kgatewayIdentity = confv1.Implementation{Organization: "kgateway-dev", Project: "kgateway",
	URL: "https://github.com/kgateway-dev/kgateway", Contact: []string{"@kgateway-dev/maintainers"}}

// installedIdentity is who the kind target installed, at version.
func installedIdentity(install, version string) confv1.Implementation {
	id := simIdentity[install]
	if install == targets.InstallKGateway {
		id = kgatewayIdentity
	}
	id.Version = version
	return id
}

// defaultClaims are the features a run claims when the command line claims
// none, for the implementations the target knows it runs: every feature
// for the project's controller (sim, kind) and for kgateway, whose choices
// the extended features are; Envoy Gateway's own set. On the cluster
// target ClaimPublished takes what the GatewayClass publishes instead.
func defaultClaims(target, impl, install string) (all bool, some []features.Name) {
	switch {
	case target == targets.Sim && impl == dialect.KGateway{}.Name(),
		target == targets.Kind && (install == "" || install == targets.InstallKGateway):
		return true, nil
	case (target == targets.Sim || target == targets.Kind) && impl == dialect.EnvoyGateway{}.Name():
		return false, envoyGatewayClaims
	}
	return false, nil
}

// envoyGatewayClaims are the extended features Envoy Gateway implements:
// not kgateway's label selectors, disable, policy weights, status wording
// or replacement scope (docs/implementations/envoy-gateway.md).
var envoyGatewayClaims = []features.Name{features.QuerySource, features.CookieSource, features.ClientIDHeader, features.ForwardCredential,
	features.RuleLevel, features.ListenerLevel, features.ReferenceGrant, features.PolicyConflict, features.TargetSelector,
	features.GRPCLocalReply, features.FragmentRejected}

// kindConfig is the kind target's configuration from the kind flags, or
// what is wrong with them. Installing an implementation replaces the
// deploy manifests, which default to where `make e2e` renders them.
func (f *Flags) kindConfig(artifacts string) (targets.KindConfig, error) {
	var errs []error
	if f.Target != targets.Kind {
		for _, fl := range []struct{ name, value string }{{"--kind-install", f.KindInstall}, {"--kind-config", f.KindConfig},
			{"--kind-chart-version", f.KindChartVer}, {"--kind-provider", f.KindProvider}} {
			if fl.value != "" {
				errs = append(errs, fmt.Errorf("%s applies to --target=kind only", fl.name))
			}
		}
	}
	provider := f.KindProvider
	if provider == "" {
		provider = targets.ProviderDocker
		if env := os.Getenv("KIND_EXPERIMENTAL_PROVIDER"); env == targets.ProviderPodman {
			provider = env
		}
	}
	deployDir := f.KindDeployDir
	if deployDir == "" && f.KindInstall == "" {
		deployDir = filepath.Join(artifacts, "deploy")
	}
	backend := orDefault(f.BackendImage, harness.BackendImage)
	return targets.KindConfig{ClusterName: f.KindName, NodeImage: f.KindImage, ConfigFile: f.KindConfig, Provider: provider,
		KeepCluster: f.KindKeep, DeployDir: deployDir, Install: f.KindInstall, ChartVersion: f.KindChartVer, Helm: f.KindHelm,
		Images: splitList(f.KindImages), Pull: []string{backend}, ReadyTimeout: f.Timeouts.GatewayReadyTimeout}, errors.Join(errs...)
}

// ClaimPublished makes the features a GatewayClass publishes in
// status.supportedFeatures the run's claims, when the command line claims
// none: those of the API key auth profile, the others being Gateway API's
// own. It returns the features taken.
func (o *Options) ClaimPublished(published []string) []features.Name {
	if o.claimsGiven {
		return nil
	}
	var taken []features.Name
	for _, name := range published {
		f := features.Name(name)
		if o.Selection.Profile.Extended.Has(f) {
			taken = append(taken, f)
		}
	}
	if len(taken) > 0 {
		o.Selection.Supported = append(o.Selection.Supported, taken...)
		o.Report.Selection = o.Selection
	}
	return taken
}

// keyValues reads "k=v,k2=v2".
func keyValues(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range splitList(s) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%q: want key=value", kv)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
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

// ArtifactsDir is where a run's reports go: dir, else $ARTIFACTS, else
// _artifacts; a relative path resolves against baseDir.
func ArtifactsDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("ARTIFACTS")
	}
	if dir == "" {
		dir = "_artifacts"
	}
	if filepath.IsAbs(dir) {
		return dir, nil
	}
	root, err := baseDir()
	return filepath.Join(root, dir), err
}

// baseDir is where relative artifact paths resolve: the module root when
// the suite runs inside the repository (whichever directory the test
// runs from), else the working directory (the keyconform-suites program
// run anywhere).
func baseDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return dir, nil
		}
	}
}
