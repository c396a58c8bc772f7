package targets

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	"sigs.k8s.io/e2e-framework/third_party/helm"
)

// HelmRelease is one chart the kind target installs, as
// `helm upgrade --install`: a cluster kept from an earlier run
// (--kind-keep-cluster) already has the release, which plain `install`
// refuses.
type HelmRelease struct {
	Name, Chart, Namespace, Version string
	// Values are key=value pairs, each given with its own --set so that
	// no value's commas are read as separators.
	Values []string
}

// helmFlags are the flags of r besides those e2e-framework's helm manager
// writes itself (namespace, version, wait, timeout, kubeconfig).
func (r HelmRelease) helmFlags() []string {
	flags := []string{"--install", "--create-namespace"}
	for _, v := range r.Values {
		flags = append(flags, "--set", v)
	}
	return flags
}

// helmCommand is the command line e2e-framework's helm manager runs for r,
// in its order, for the plan.
func (r HelmRelease) helmCommand(helmPath string, timeout time.Duration, kubeconfig string) []string {
	cmd := []string{helmPath, "upgrade", r.Name, r.Chart, "--namespace", r.Namespace, "--version", r.Version}
	cmd = append(cmd, r.helmFlags()...)
	return append(cmd, "--wait", "--timeout", timeout.String(), "--kubeconfig", kubeconfig)
}

// installRelease runs `helm upgrade --install` through e2e-framework's helm
// manager, waiting up to timeout for what the chart deploys.
func installRelease(ctx context.Context, helmPath, kubeconfig string, r HelmRelease, timeout time.Duration) error {
	err := helm.New(kubeconfig).WithPath(helmPath).RunUpgrade(
		helm.WithName(r.Name), helm.WithChart(r.Chart), helm.WithNamespace(r.Namespace), helm.WithVersion(r.Version),
		helm.WithArgs(r.helmFlags()...), helm.WithWait(), helm.WithTimeout(timeout.String()), helm.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("installing chart %s %s as release %s in %s: %w (the chart is pulled from its registry: this machine needs to reach it)",
			r.Chart, r.Version, r.Name, r.Namespace, err)
	}
	return nil
}

// checkHelm says how to get helm when helmPath is not an executable:
// e2e-framework's manager only says it is missing.
func checkHelm(helmPath, install string) error {
	if _, err := exec.LookPath(helmPath); err != nil {
		return fmt.Errorf("kind target: --kind-install=%s installs its Helm chart, and there is no helm at %q: install Helm v3 "+
			"(https://helm.sh/docs/intro/install/), or run `make tools-helm`, which builds it from the Go module proxy into bin/helm, "+
			"and pass --kind-helm=bin/helm (`make e2e IMPL=%s` does both)", install, helmPath, install)
	}
	return nil
}
