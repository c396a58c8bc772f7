package targets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apiextensionshelpers "k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"
	"sigs.k8s.io/e2e-framework/klient/wait"
	"sigs.k8s.io/e2e-framework/klient/wait/conditions"
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

// startKind carries out the kind target's plan (PlanKind): creates (or
// reuses) the cluster, loads images, installs the implementation, and
// connects to it. What it needs from this machine (a container engine,
// helm, the deploy manifests) is checked before anything is created.
func startKind(ctx context.Context, cfg Config) (Started, error) {
	k := cfg.Kind
	scratch, err := os.MkdirTemp("", "keyconform-kind-images-")
	if err != nil {
		return nil, fmt.Errorf("kind target: %w", err)
	}
	defer os.RemoveAll(scratch)
	plan, err := PlanKind(k, scratch)
	if err != nil {
		return nil, fmt.Errorf("kind target: %w", err)
	}
	if err := CheckKindTools(ctx, plan, k.Install); err != nil {
		return nil, err
	}
	run := &kindRun{plan: plan, envCfg: envconf.New(), timeout: k.ReadyTimeout, log: cfg.Logger}
	if k.Install == "" {
		if run.files, err = deployManifests(k.DeployDir); err != nil {
			return nil, err
		}
	}
	destroy := func(ctx context.Context, failed bool) error {
		var errs []error
		if failed {
			dest := filepath.Join(cfg.Artifacts, "kind-logs")
			if _, err := envfuncs.ExportClusterLogs(k.ClusterName, dest)(ctx, run.envCfg); err != nil {
				errs = append(errs, err)
			}
		}
		if !k.KeepCluster {
			if _, err := envfuncs.DestroyCluster(k.ClusterName)(ctx, run.envCfg); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	if ctx, err = run.steps(ctx, plan.Steps); err != nil {
		return nil, errors.Join(fmt.Errorf("kind target: %w", err), destroy(ctx, true))
	}
	env, err := newClusterEnv(Handle{Target: Kind, Kubeconfig: run.envCfg.KubeconfigFile(), GatewayClass: cfg.GatewayClass, GatewayAddress: cfg.GatewayAddress})
	if err != nil {
		return nil, errors.Join(err, destroy(ctx, true))
	}
	env.onStop = destroy
	return env, nil
}

// CheckKindTools says what plan needs from this machine that it lacks: a
// container engine that answers (for kind itself, and for pulling and
// saving images) and, to install an implementation, helm. kind is
// go-installed by e2e-framework when missing.
func CheckKindTools(ctx context.Context, plan KindPlan, install string) error {
	var errs []error
	engine := plan.Provider
	if _, err := exec.LookPath(engine); err != nil {
		errs = append(errs, fmt.Errorf("kind target: %s is not on PATH: kind runs the cluster's nodes as %s containers "+
			"(install it, or use --kind-provider to name the engine you have; without one, use --target=sim)", engine, engine))
	} else {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, engine, "info").CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("kind target: %s does not answer (%s info: %w: %s): start it, "+
				"or use --kind-provider to name the engine you have", engine, engine, err, lastLine(out)))
		}
	}
	if install != "" {
		errs = append(errs, checkHelm(plan.Helm, install))
	}
	return errors.Join(errs...)
}

// lastLine is the last line of a command's output, where engines say why
// they failed.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// kindRun carries out a plan's steps.
type kindRun struct {
	plan    KindPlan
	envCfg  *envconf.Config
	files   []string
	timeout time.Duration
	log     *slog.Logger
}

// steps runs steps in order; e2e-framework keeps the cluster in the
// context, which each step passes on.
func (r *kindRun) steps(ctx context.Context, steps []Step) (context.Context, error) {
	for _, e := range r.plan.Env {
		name, value, _ := strings.Cut(e, "=")
		if err := os.Setenv(name, value); err != nil {
			return ctx, err
		}
	}
	for _, s := range steps {
		if r.log != nil {
			r.log.Info("kind target", "step", s.String())
		}
		var err error
		if ctx, err = r.step(ctx, s); err != nil {
			return ctx, err
		}
	}
	return ctx, nil
}

func (r *kindRun) step(ctx context.Context, s Step) (context.Context, error) {
	name := r.plan.Cluster
	switch s.Action {
	case CreateCluster:
		var opts []support.ClusterOpts
		if s.NodeImage != "" {
			opts = append(opts, kind.WithImage(s.NodeImage))
		}
		provider := kind.NewProvider().WithVersion(kindVersion)
		return envfuncs.CreateClusterWithConfig(provider, name, s.ConfigFile, opts...)(ctx, r.envCfg)
	case PullImage:
		return ctx, pullImage(ctx, s)
	case LoadImage:
		return envfuncs.LoadImageToCluster(name, s.Image)(ctx, r.envCfg)
	case SaveImage:
		return ctx, runCommand(ctx, s.Args)
	case LoadArchive:
		return envfuncs.LoadImageArchiveToCluster(name, s.Archive)(ctx, r.envCfg)
	case HelmInstall:
		return ctx, installRelease(ctx, r.plan.Helm, r.envCfg.KubeconfigFile(), s.Release, r.timeout)
	case InstallCRDs, CreateObjects, ApplyDeploy:
		res, err := resources.New(r.envCfg.Client().RESTConfig())
		if err != nil {
			return ctx, err
		}
		switch s.Action {
		case InstallCRDs:
			return ctx, installCRDs(ctx, res, s.CRDGroup, r.timeout)
		case CreateObjects:
			return ctx, createObjects(ctx, res, s.Objects)
		default:
			return ctx, deploy(ctx, res, r.files, r.timeout)
		}
	}
	return ctx, fmt.Errorf("unknown step %d", s.Action)
}

// pullImage pulls s.Image with the container engine unless it is there:
// a run with the images already pulled needs no registry.
func pullImage(ctx context.Context, s Step) error {
	engine := s.Args[0]
	if exec.CommandContext(ctx, engine, "image", "inspect", s.Image).Run() == nil {
		return nil
	}
	return runCommand(ctx, s.Args)
}

func runCommand(ctx context.Context, args []string) error {
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
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

// installCRDs installs the CRDs of fixtures/crds (of group only, when
// set) and waits until they are established.
func installCRDs(ctx context.Context, res *resources.Resources, group string, timeout time.Duration) error {
	all, err := fixtures.Objects(fixtures.FS, "crds")
	if err != nil {
		return err
	}
	var crds []*unstructured.Unstructured
	for _, crd := range all {
		if g, _, _ := unstructured.NestedString(crd.Object, "spec", "group"); group == "" || g == group {
			crds = append(crds, crd)
		}
	}
	for _, crd := range crds {
		if err := harness.Apply(ctx, res, crd); err != nil {
			return fmt.Errorf("installing CRD %s: %w", crd.GetName(), err)
		}
	}
	return awaitEstablished(ctx, res, crds, timeout)
}

// createObjects creates or replaces objs (copies: a replace writes the
// resource version into the object).
func createObjects(ctx context.Context, res *resources.Resources, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if err := harness.Apply(ctx, res, o.DeepCopy()); err != nil {
			return fmt.Errorf("creating %s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
	return nil
}

// deploy applies every manifest file, then waits until their Deployments
// are available.
func deploy(ctx context.Context, res *resources.Resources, files []string, timeout time.Duration) error {
	var deployments []*unstructured.Unstructured
	for _, f := range files {
		objs, err := fixtures.File(os.DirFS(filepath.Dir(f)), filepath.Base(f))
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := harness.Apply(ctx, res, o); err != nil {
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
	established := func(obj k8s.Object) bool {
		var crd apiextensionsv1.CustomResourceDefinition
		u, ok := obj.(*unstructured.Unstructured)
		return ok && runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &crd) == nil &&
			apiextensionshelpers.IsCRDConditionTrue(&crd, apiextensionsv1.Established)
	}
	for _, crd := range crds {
		err := wait.For(conditions.New(res).ResourceMatch(crd.DeepCopy(), established),
			wait.WithContext(ctx), wait.WithTimeout(timeout), wait.WithInterval(500*time.Millisecond), wait.WithImmediate())
		if err != nil {
			return fmt.Errorf("CRD %s not established: %w", crd.GetName(), err)
		}
	}
	return nil
}
