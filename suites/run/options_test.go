package run

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyconform/keyconform/suites/harness"
)

// TestOptions parses command lines as the suite does and checks what a
// run is told, or the error a user gets.
func TestOptions(t *testing.T) {
	dir := t.TempDir()
	kindConfigFile, notKindConfig := filepath.Join(dir, "kind.yaml"), filepath.Join(dir, "kubeconfig")
	for f, content := range map[string]string{kindConfigFile: "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n",
		notKindConfig: "apiVersion: v1\nkind: Config\n"} {
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	identity := []string{"--organization=o", "--project=p", "--url=https://example.com/p", "--version=v1", "--contact=@p"}
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, o Options)
	}{
		{name: "sim defaults to the reference controller", check: func(t *testing.T, o Options) {
			if o.Target.Implementation != "kgateway" || o.Target.GatewayClass != "kgateway" || o.RunName != "sim" {
				t.Errorf("implementation %q, class %q, run %q", o.Target.Implementation, o.Target.GatewayClass, o.RunName)
			}
			if o.Report.Implementation.Project != "keyconform" || !o.Selection.AllFeatures {
				t.Errorf("report names %q, all features %v", o.Report.Implementation.Project, o.Selection.AllFeatures)
			}
		}},
		{name: "sim with Envoy Gateway", args: []string{"--implementation=envoy-gateway"}, check: func(t *testing.T, o Options) {
			if o.Target.GatewayClass != "eg" || o.RunName != "sim-envoy-gateway" || o.Report.Implementation.Project != "gateway" {
				t.Errorf("class %q, run %q, report names %q", o.Target.GatewayClass, o.RunName, o.Report.Implementation.Project)
			}
			if o.Selection.AllFeatures || o.Selection.Supports("APIKeyAuthLabelSelector") || !o.Selection.Supports("APIKeyAuthQuerySource") {
				t.Errorf("Envoy Gateway's claims: %v", o.Selection.SupportedFeatures())
			}
			if !strings.HasSuffix(o.JUnitOutput, filepath.Join("_artifacts", "junit-sim-envoy-gateway.xml")) {
				t.Errorf("JUnit output %s", o.JUnitOutput)
			}
		}},
		{name: "unknown implementation", args: []string{"--implementation=nginx"}, wantErr: "unknown implementation \"nginx\""},
		{name: "sim class mismatch", args: []string{"--implementation=envoy-gateway", "--gateway-class=kgateway"}, wantErr: `serves GatewayClass "eg"`},
		{name: "cluster needs the implementation's identity", args: []string{"--target=cluster", "--project=p"},
			wantErr: "set --organization, --url, --version, --contact"},
		{name: "cluster with identity and context", args: append([]string{"--target=cluster", "--context=ctx"}, identity...),
			check: func(t *testing.T, o Options) {
				if o.Target.Context != "ctx" || o.Report.Implementation.Organization != "o" || o.Target.Implementation != "" {
					t.Errorf("context %q, organization %q, implementation %q", o.Target.Context, o.Report.Implementation.Organization, o.Target.Implementation)
				}
			}},
		{name: "real-cluster hooks", args: append([]string{"--target=cluster", "--gateway-parameters-ref=gateway.envoyproxy.io/EnvoyProxy/cluster-ip",
			"--backend-image=registry.example/httpbin:v2", "--namespace-labels=istio-injection=enabled, team=a", "--namespace-annotations=x=y"}, identity...),
			check: func(t *testing.T, o Options) {
				h := o.Hooks
				if h.GatewayParametersRef == nil || h.GatewayParametersRef.Name != "cluster-ip" || h.BackendImage != "registry.example/httpbin:v2" ||
					h.NamespaceLabels["team"] != "a" || h.NamespaceLabels["istio-injection"] != "enabled" || h.NamespaceAnnotations["x"] != "y" {
					t.Errorf("hooks %+v", h)
				}
			}},
		{name: "bad parameters ref", args: []string{"--gateway-parameters-ref=cluster-ip"}, wantErr: "--gateway-parameters-ref"},
		{name: "bad namespace label", args: []string{"--namespace-labels=team"}, wantErr: `--namespace-labels: "team": want key=value`},
		{name: "unknown feature", args: []string{"--supported-features=APIKeyAuthTeleport"}, wantErr: "unknown feature(s) APIKeyAuthTeleport"},
		{name: "unknown scenario", args: []string{"--run-test=NoSuchScenario"}, wantErr: "NoSuchScenario"},
		{name: "zero timeout", args: []string{"--max-time-to-consistency=0s"}, wantErr: "timeouts"},
		{name: "kind runs the project's controller from the deploy manifests", args: []string{"--target=kind"}, check: func(t *testing.T, o Options) {
			k := o.Target.Kind
			if o.RunName != "kind" || o.Target.Implementation != "" || o.Target.GatewayClass != "kgateway" || !o.Selection.AllFeatures ||
				o.Report.Implementation.Project != "keyconform" || !strings.HasSuffix(k.DeployDir, filepath.Join("_artifacts", "deploy")) ||
				k.Install != "" || k.Provider != "docker" || k.Helm != "helm" || !slices.Equal(k.Pull, []string{harness.BackendImage}) {
				t.Errorf("run %q, dialect %q, class %q, all features %v, report %q, kind %+v", o.RunName, o.Target.Implementation,
					o.Target.GatewayClass, o.Selection.AllFeatures, o.Report.Implementation.Project, k)
			}
		}},
		{name: "kind installs Envoy Gateway", args: []string{"--target=kind", "--kind-install=envoy-gateway", "--backend-image=registry.example/httpbin:v2"},
			check: func(t *testing.T, o Options) {
				k, id := o.Target.Kind, o.Report.Implementation
				if o.Target.Implementation != "envoy-gateway" || o.Target.GatewayClass != "eg" || o.RunName != "kind-envoy-gateway" || k.DeployDir != "" ||
					!slices.Equal(k.Pull, []string{"registry.example/httpbin:v2"}) {
					t.Errorf("dialect %q, class %q, run %q, kind %+v", o.Target.Implementation, o.Target.GatewayClass, o.RunName, k)
				}
				if id.Project != "gateway" || id.Version != "v1.9.1" || o.Selection.AllFeatures || o.Selection.Supports("APIKeyAuthLabelSelector") ||
					!o.Selection.Supports("APIKeyAuthQuerySource") {
					t.Errorf("report names %s %s; claims %v", id.Project, id.Version, o.Selection.SupportedFeatures())
				}
			}},
		{name: "kind installs kgateway at another version with podman", args: []string{"--target=kind", "--kind-install=kgateway",
			"--kind-chart-version=v2.3.0", "--kind-provider=podman", "--kind-helm=bin/helm"}, check: func(t *testing.T, o Options) {
			k, id := o.Target.Kind, o.Report.Implementation
			if o.Target.Implementation != "kgateway" || o.Target.GatewayClass != "kgateway" || o.RunName != "kind-kgateway" ||
				k.Provider != "podman" || k.Helm != "bin/helm" || k.InstalledVersion() != "v2.3.0" {
				t.Errorf("dialect %q, class %q, run %q, kind %+v", o.Target.Implementation, o.Target.GatewayClass, o.RunName, k)
			}
			if id.Organization != "kgateway-dev" || id.Project != "kgateway" || id.Version != "v2.3.0" || !o.Selection.AllFeatures {
				t.Errorf("report names %+v; all features %v", id, o.Selection.AllFeatures)
			}
		}},
		{name: "kind with a cluster config", args: []string{"--target=kind", "--kind-config=" + kindConfigFile}, check: func(t *testing.T, o Options) {
			if o.Target.Kind.ConfigFile != kindConfigFile {
				t.Errorf("config file %q", o.Target.Kind.ConfigFile)
			}
		}},
		{name: "kind config that is not one", args: []string{"--target=kind", "--kind-config=" + notKindConfig},
			wantErr: `has apiVersion "v1" and kind "Config": it is not a kind cluster config`},
		{name: "unknown implementation to install", args: []string{"--target=kind", "--kind-install=nginx"},
			wantErr: `--kind-install="nginx": want one of envoy-gateway, kgateway`},
		{name: "installing with another dialect", args: []string{"--target=kind", "--kind-install=envoy-gateway", "--implementation=kgateway"},
			wantErr: "the installed implementation is envoy-gateway"},
		{name: "installing with deploy manifests", args: []string{"--target=kind", "--kind-install=kgateway", "--kind-deploy-dir=/a"},
			wantErr: "drop one of them"},
		{name: "chart version without an implementation", args: []string{"--target=kind", "--kind-chart-version=v1.9.0"},
			wantErr: "name the implementation too"},
		{name: "unknown provider", args: []string{"--target=kind", "--kind-provider=nerdctl"}, wantErr: `want docker or podman`},
		{name: "kind flags elsewhere", args: []string{"--kind-install=kgateway", "--kind-provider=podman"},
			wantErr: "--kind-install applies to --target=kind only"},
	}
	t.Setenv("KIND_EXPERIMENTAL_PROVIDER", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("suite", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			f := RegisterFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			o, err := f.Options()
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			default:
				tt.check(t, o)
			}
		})
	}
}

// TestKindProviderFromEnvironment: kind's own variable picks Podman when
// --kind-provider does not say.
func TestKindProviderFromEnvironment(t *testing.T) {
	for _, tt := range []struct{ env, flag, want string }{{"podman", "", "podman"}, {"podman", "--kind-provider=docker", "docker"}, {"nerdctl", "", "docker"}} {
		t.Setenv("KIND_EXPERIMENTAL_PROVIDER", tt.env)
		fs := flag.NewFlagSet("suite", flag.ContinueOnError)
		f := RegisterFlags(fs)
		args := []string{"--target=kind"}
		if tt.flag != "" {
			args = append(args, tt.flag)
		}
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		o, err := f.Options()
		if err != nil || o.Target.Kind.Provider != tt.want {
			t.Errorf("KIND_EXPERIMENTAL_PROVIDER=%s %s: provider %q (%v), want %s", tt.env, tt.flag, o.Target.Kind.Provider, err, tt.want)
		}
	}
}

// TestClaimPublished takes the profile's features a GatewayClass publishes
// in status.supportedFeatures, unless the command line claimed some.
func TestClaimPublished(t *testing.T) {
	identity := []string{"--target=cluster", "--organization=o", "--project=p", "--url=https://example.com/p", "--version=v1", "--contact=@p"}
	published := []string{"HTTPRoute", "APIKeyAuthQuerySource", "APIKeyAuthCookieSource"}
	tests := []struct {
		name  string
		args  []string
		taken int
	}{
		{"nothing claimed", identity, 2},
		{"claimed on the command line", append(identity, "--supported-features=APIKeyAuthClientIDHeader"), 0},
		{"all features", append(identity, "--all-features"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("suite", flag.ContinueOnError)
			f := RegisterFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			o, err := f.Options()
			if err != nil {
				t.Fatal(err)
			}
			taken := o.ClaimPublished(published)
			if len(taken) != tt.taken {
				t.Fatalf("took %v, want %d features", taken, tt.taken)
			}
			if tt.taken > 0 && (!o.Selection.Supports("APIKeyAuthQuerySource") || !o.Report.Selection.Supports("APIKeyAuthCookieSource")) {
				t.Errorf("claims %v", o.Selection.SupportedFeatures())
			}
		})
	}
}
