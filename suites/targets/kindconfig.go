package targets

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// KindConfig configures the kind target.
type KindConfig struct {
	// ClusterName is the kind cluster; an existing one is reused.
	ClusterName string
	// NodeImage is the kindest/node image; empty is kind's default.
	NodeImage string
	// ConfigFile is a kind cluster config file (kind create cluster
	// --config); empty is kind's default single node.
	ConfigFile string
	// Provider is the container engine kind runs nodes on: docker or
	// podman. Images are pulled and saved with the same engine.
	Provider string
	// KeepCluster leaves the cluster running after the suite.
	KeepCluster bool
	// DeployDir holds the plain YAML manifests installing the controller
	// and Envoy (fixtures/deploy rendered with the image under test, as
	// `make e2e` does), applied in file name order. Unused with Install.
	DeployDir string
	// Install names a released implementation (KindInstalls) to install
	// from its Helm charts instead of applying DeployDir.
	Install string
	// ChartVersion is Install's chart version; empty is its pinned one.
	ChartVersion string
	// Helm is the helm binary for Install.
	Helm string
	// Images are loaded into the cluster as they are on the host (e.g.
	// the controller image `make images` built).
	Images []string
	// Pull are images pulled on the host when missing, then loaded: what
	// the run would otherwise make the cluster pull (the scenarios'
	// backend). The implementation's own images are added to them.
	Pull []string
	// ReadyTimeout bounds waiting for what is deployed or installed.
	ReadyTimeout time.Duration
}

// InstalledVersion is the chart version of Install.
func (k KindConfig) InstalledVersion() string {
	if k.ChartVersion != "" {
		return k.ChartVersion
	}
	return KindInstalls[k.Install].DefaultVersion
}

// validate says what is wrong with k, for a run whose GatewayClass and
// dialect are class and impl.
func (k KindConfig) validate(class, impl string) error {
	var errs []error
	if k.Provider != ProviderDocker && k.Provider != ProviderPodman {
		errs = append(errs, fmt.Errorf("--kind-provider=%q: want %s or %s", k.Provider, ProviderDocker, ProviderPodman))
	}
	if k.ConfigFile != "" {
		errs = append(errs, checkKindConfig(k.ConfigFile))
	}
	if k.Install == "" {
		if k.ChartVersion != "" {
			errs = append(errs, fmt.Errorf("--kind-chart-version=%s: it is the version of --kind-install's chart; name the implementation too", k.ChartVersion))
		}
		return errors.Join(errs...)
	}
	inst, ok := KindInstalls[k.Install]
	switch {
	case !ok:
		errs = append(errs, fmt.Errorf("--kind-install=%q: want one of %s", k.Install, strings.Join(KindInstallNames(), ", ")))
	case class != inst.GatewayClass:
		errs = append(errs, fmt.Errorf("--gateway-class=%s: --kind-install=%s serves GatewayClass %q; drop the flag", class, k.Install, inst.GatewayClass))
	case impl != k.Install:
		errs = append(errs, fmt.Errorf("--implementation=%s: the installed implementation is %s; drop the flag", impl, k.Install))
	}
	if k.DeployDir != "" {
		errs = append(errs, fmt.Errorf("--kind-deploy-dir=%s: --kind-install=%s installs that implementation instead of the deploy manifests; drop one of them", k.DeployDir, k.Install))
	}
	return errors.Join(errs...)
}

// kindConfigAPIVersion is the cluster config version kind v0.33.0 reads.
const kindConfigAPIVersion = "kind.x-k8s.io/v1alpha4"

// checkKindConfig says what is wrong with the kind cluster config file at
// path, before anything is created: kind itself would only complain once
// the cluster is being made, and a file meant for something else (a
// kubeconfig, say) is an easy mistake. kind checks the rest.
func checkKindConfig(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--kind-config: %w (give the path of a kind cluster config file)", err)
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("--kind-config=%s is not YAML: %w", path, err)
	}
	if head.Kind != "Cluster" || head.APIVersion != kindConfigAPIVersion {
		return fmt.Errorf("--kind-config=%s has apiVersion %q and kind %q: it is not a kind cluster config, "+
			"which has `kind: Cluster` and `apiVersion: %s` (https://kind.sigs.k8s.io/docs/user/configuration/)",
			path, head.APIVersion, head.Kind, kindConfigAPIVersion)
	}
	return nil
}
