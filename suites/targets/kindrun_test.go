package targets

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/support"
	"sigs.k8s.io/e2e-framework/support/kind"
)

// fakeTool records each call (the kind provider variable, the program's
// name, its arguments) in $FAKE_LOG; `image inspect` fails unless
// $FAKE_PRESENT is set, `info` fails when $FAKE_DOWN is. Shell builtins
// only: tests run it with PATH holding nothing else.
const fakeTool = `#!/bin/sh
echo "KIND_EXPERIMENTAL_PROVIDER=$KIND_EXPERIMENTAL_PROVIDER ${0##*/} $*" >> "$FAKE_LOG"
case "$1 $2" in
"image inspect") [ -n "$FAKE_PRESENT" ] || exit 1 ;;
"info ") [ -z "$FAKE_DOWN" ] || { echo "Cannot connect to the engine"; exit 1; } ;;
esac
exit 0
`

// fakeTools puts fake programs named names in a new folder, which becomes
// PATH, and returns the folder and the log they write.
func fakeTools(t *testing.T, names ...string) (dir, log string) {
	dir = t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(fakeTool), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	log = filepath.Join(dir, "calls.log")
	t.Setenv("FAKE_LOG", log)
	t.Setenv("PATH", dir)
	return dir, log
}

func calls(t *testing.T, log string) []string {
	data, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// TestKindRunRunsThePlan carries out the steps of plans that run programs
// (pulls, image loads through e2e-framework's kind provider, podman saves,
// helm installs through e2e-framework's helm manager) against fake
// programs, and checks each ran exactly the plan's command line, with
// kind's provider variable set for every command. Cluster creation and
// the steps done through the API need a cluster and are left out.
func TestKindRunRunsThePlan(t *testing.T) {
	tests := []struct {
		name    string
		k       KindConfig
		present bool
	}{
		{"kgateway on podman", KindConfig{Provider: ProviderPodman, Install: InstallKGateway, Pull: []string{"docker.io/mccutchen/go-httpbin:v2.26.0"}}, false},
		{"Envoy Gateway on docker, images present", KindConfig{Provider: ProviderDocker, Install: InstallEnvoyGateway}, true},
		{"project controller on docker", KindConfig{Provider: ProviderDocker, DeployDir: "/a/deploy", Images: []string{"keyconform:dev"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, log := fakeTools(t, "kind", "helm", "docker", "podman")
			t.Setenv(kindProviderEnv, "")
			if tt.present {
				t.Setenv("FAKE_PRESENT", "1")
			}
			k := tt.k
			k.ClusterName, k.Helm, k.ReadyTimeout = "kc", filepath.Join(dir, "helm"), 3*time.Minute
			plan, err := PlanKind(k, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			kubeconfig := filepath.Join(dir, "kubeconfig")
			var run []Step
			var want []string
			env := "KIND_EXPERIMENTAL_PROVIDER=" + k.Provider + " "
			for _, s := range plan.Steps {
				switch s.Action {
				case PullImage:
					want = append(want, env+k.Provider+" image inspect "+s.Image)
					if tt.present {
						run = append(run, s)
						continue
					}
				case LoadImage, SaveImage, LoadArchive, HelmInstall:
				default:
					continue
				}
				run = append(run, s)
				args := slices.Clone(s.Args)
				args[0] = filepath.Base(args[0])
				if args[len(args)-1] == KubeconfigPlaceholder {
					args[len(args)-1] = kubeconfig
				}
				want = append(want, env+strings.Join(args, " "))
			}
			ctx := context.WithValue(context.Background(), support.ClusterNameContextKey("kc"), kind.NewCluster("kc").WithPath(filepath.Join(dir, "kind")))
			r := &kindRun{plan: plan, envCfg: envconf.New().WithKubeconfigFile(kubeconfig), timeout: k.ReadyTimeout}
			if _, err := r.steps(ctx, run); err != nil {
				t.Fatal(err)
			}
			if got := calls(t, log); !slices.Equal(got, want) {
				t.Errorf("ran:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestCheckKindTools says what is missing before anything is created.
func TestCheckKindTools(t *testing.T) {
	plan := KindPlan{Provider: ProviderPodman, Helm: "helm"}
	fakeTools(t)
	err := CheckKindTools(context.Background(), plan, InstallEnvoyGateway)
	for _, want := range []string{"podman is not on PATH", "--target=sim", `no helm at "helm"`, "make tools-helm", "--kind-helm=bin/helm"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("no engine, no helm: %v, want it to say %q", err, want)
		}
	}

	fakeTools(t, "podman", "helm")
	t.Setenv("FAKE_DOWN", "1")
	err = CheckKindTools(context.Background(), plan, InstallEnvoyGateway)
	if err == nil || !strings.Contains(err.Error(), "podman does not answer") || !strings.Contains(err.Error(), "Cannot connect to the engine") ||
		strings.Contains(err.Error(), "helm") {
		t.Errorf("engine down: %v", err)
	}

	t.Setenv("FAKE_DOWN", "")
	if err := CheckKindTools(context.Background(), plan, InstallEnvoyGateway); err != nil {
		t.Errorf("all there: %v", err)
	}
	if err := CheckKindTools(context.Background(), KindPlan{Provider: ProviderPodman, Helm: "no-such-helm"}, ""); err != nil {
		t.Errorf("no helm needed without an install: %v", err)
	}
}
