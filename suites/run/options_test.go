package run

import (
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// TestOptions parses command lines as the suite does and checks what a
// run is told, or the error a user gets.
func TestOptions(t *testing.T) {
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
	}
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
