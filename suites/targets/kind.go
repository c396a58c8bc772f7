package targets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/envfuncs"
	"sigs.k8s.io/e2e-framework/support"
	"sigs.k8s.io/e2e-framework/support/kind"

	"github.com/keyconform/keyconform/fixtures"
	"github.com/keyconform/keyconform/suites/harness"
)

// kindVersion is the kind release the target installs when no kind binary
// is on PATH (the Makefile's KIND_VERSION too).
const kindVersion = "v0.33.0"

// KindConfig configures the kind target.
type KindConfig struct {
	// ClusterName is the kind cluster; an existing one is reused.
	ClusterName string
	// NodeImage is the kindest/node image; empty is kind's default.
	NodeImage string
	// KeepCluster leaves the cluster running after the suite.
	KeepCluster bool
	// DeployDir holds the plain YAML manifests installing the controller
	// and Envoy (fixtures/deploy rendered with the image under test, as
	// `make e2e` does), applied in file name order.
	DeployDir string
	// Images are loaded into the cluster before deploying (e.g. the
	// controller image `make images` built).
	Images []string
	// ReadyTimeout bounds waiting for the deployed controller.
	ReadyTimeout time.Duration
}

// startKind creates (or reuses) a kind cluster, loads images, installs the
// CRDs and the deploy manifests, and waits for their Deployments. It checks
// the manifests before creating anything.
func startKind(ctx context.Context, cfg Config) (Started, error) {
	k := cfg.Kind
	files, err := deployManifests(k.DeployDir)
	if err != nil {
		return nil, err
	}
	envCfg := envconf.New()
	provider := kind.NewProvider().WithVersion(kindVersion)
	var opts []support.ClusterOpts
	if k.NodeImage != "" {
		opts = append(opts, kind.WithImage(k.NodeImage))
	}
	steps := []func(context.Context, *envconf.Config) (context.Context, error){
		envfuncs.CreateClusterWithOpts(provider, k.ClusterName, opts...),
	}
	for _, img := range k.Images {
		steps = append(steps, envfuncs.LoadImageToCluster(k.ClusterName, img))
	}
	destroy := func(ctx context.Context, failed bool) error {
		var errs []error
		if failed {
			dest := filepath.Join(cfg.Artifacts, "kind-logs")
			if _, err := envfuncs.ExportClusterLogs(k.ClusterName, dest)(ctx, envCfg); err != nil {
				errs = append(errs, err)
			}
		}
		if !k.KeepCluster {
			if _, err := envfuncs.DestroyCluster(k.ClusterName)(ctx, envCfg); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	for _, step := range steps {
		if ctx, err = step(ctx, envCfg); err != nil {
			return nil, errors.Join(fmt.Errorf("kind target: %w", err), destroy(ctx, true))
		}
	}
	if err := deploy(ctx, envCfg, files, k.ReadyTimeout); err != nil {
		return nil, errors.Join(fmt.Errorf("kind target: %w", err), destroy(ctx, true))
	}
	env, err := newClusterEnv(Handle{Target: Kind, Kubeconfig: envCfg.KubeconfigFile(), GatewayClass: cfg.GatewayClass, GatewayAddress: cfg.GatewayAddress})
	if err != nil {
		return nil, errors.Join(err, destroy(ctx, true))
	}
	env.onStop = destroy
	return env, nil
}

// deployManifests lists the YAML files of dir, or says what is missing.
func deployManifests(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("kind target: %w", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "kustomization.yaml")); statErr == nil {
		return nil, fmt.Errorf("kind target: %s is a kustomization; give --kind-deploy-dir a folder of plain YAML, e.g. the one `make e2e` renders into $ARTIFACTS/deploy", dir)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("kind target: no deploy manifests in %s: they install the controller and its Envoy data plane "+
			"(`make e2e` renders them from fixtures/deploy into $ARTIFACTS/deploy and builds the image they run). "+
			"Point --kind-deploy-dir at them, or run --target=sim here, or --target=cluster against a cluster that has an implementation installed", dir)
	}
	sort.Strings(files)
	return files, nil
}

// deploy installs the CRDs, then every manifest file, then waits until
// their Deployments are available.
func deploy(ctx context.Context, envCfg *envconf.Config, files []string, timeout time.Duration) error {
	res, err := resources.New(envCfg.Client().RESTConfig())
	if err != nil {
		return err
	}
	crds, err := fixtures.Objects(fixtures.FS, "crds")
	if err != nil {
		return err
	}
	for _, crd := range crds {
		if _, err := harness.CreateOrReplace(ctx, res, crd); err != nil {
			return fmt.Errorf("installing CRD %s: %w", crd.GetName(), err)
		}
	}
	if err := awaitEstablished(ctx, res, crds, timeout); err != nil {
		return err
	}
	var deployments []*unstructured.Unstructured
	for _, f := range files {
		objs, err := fixtures.File(os.DirFS(filepath.Dir(f)), filepath.Base(f))
		if err != nil {
			return err
		}
		for _, o := range objs {
			if _, err := harness.CreateOrReplace(ctx, res, o); err != nil {
				return fmt.Errorf("applying %s: %s %s: %w", f, o.GetKind(), o.GetName(), err)
			}
			if o.GetKind() == "Deployment" {
				deployments = append(deployments, o)
			}
		}
	}
	for _, d := range deployments {
		if err := harness.AwaitDeploymentAvailable(ctx, res, d.GetNamespace(), d.GetName(), timeout); err != nil {
			return err
		}
	}
	return nil
}

func awaitEstablished(ctx context.Context, res *resources.Resources, crds []*unstructured.Unstructured, timeout time.Duration) error {
	for _, crd := range crds {
		err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
			u := crd.DeepCopy()
			if err := res.Get(ctx, crd.GetName(), "", u); err != nil {
				return false, nil
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not established: %w", crd.GetName(), err)
		}
	}
	return nil
}
