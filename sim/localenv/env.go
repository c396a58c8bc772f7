// Package localenv is the local environment: a real etcd and kube-apiserver
// (controller-runtime's envtest), the project's CRDs, the reference
// controller, one sim data plane per Gateway of its class, and simulated
// go-httpbin workloads on a simulated pod network. Nothing needs Docker or a
// kubelet, and no traffic leaves loopback.
package localenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/reconcile"
	"github.com/keyconform/keyconform/controller/xds"
	"github.com/keyconform/keyconform/fixtures"
	"github.com/keyconform/keyconform/sim/httpbin"
	"github.com/keyconform/keyconform/sim/kubeassets"
	"github.com/keyconform/keyconform/sim/podnet"
)

// Options configure Start. The zero value gives a test environment:
// ephemeral ports, nothing installed beyond the CRDs.
type Options struct {
	Logger *slog.Logger
	// FixedPorts serves Gateway listener port N on 127.0.0.1:N (make run);
	// otherwise every listener port gets an ephemeral loopback port.
	FixedPorts bool
	// ListenOverrides serve the given listener ports elsewhere on loopback,
	// e.g. 8080 -> "127.0.0.1:9080" when 8080 is taken.
	ListenOverrides map[uint32]string
	// SampleApp installs the seed's "Before you begin" state: Gateway
	// kgateway-system/http and the httpbin sample app.
	SampleApp bool
}

// Env is a running local environment. Stop it to release every process,
// port and temporary file.
type Env struct {
	log        *slog.Logger
	testEnv    *envtest.Environment
	restConfig *rest.Config
	client     client.Client
	kubeconfig string
	tmpDir     string

	cancel     context.CancelFunc
	background sync.WaitGroup
	workloads  *workloads
	dataPlanes *dataPlanes
	stopOnce   sync.Once
	stopErr    error
}

// Start brings the environment up. On any error everything started so far
// is stopped again.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	listen, err := listenAddressFunc(opts)
	if err != nil {
		return nil, err
	}
	testEnv, err := kubeassets.Environment()
	if err != nil {
		return nil, err
	}

	e := &Env{log: log}
	defer func() {
		if err != nil {
			err = errors.Join(err, e.Stop())
		}
	}()

	// controller-runtime logs through logr; route it to the same handler.
	ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
	e.testEnv = testEnv
	if e.restConfig, err = e.testEnv.Start(); err != nil {
		return nil, fmt.Errorf("starting etcd and kube-apiserver (%s): %w", testEnv.ControlPlane.APIServer.Path, err)
	}
	if err := e.writeKubeconfig(); err != nil {
		return nil, err
	}

	scheme := runtime.NewScheme()
	if err := reconcile.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("building scheme: %w", err)
	}
	mgr, err := ctrl.NewManager(e.restConfig, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	e.client = mgr.GetClient()

	xdsListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for xDS: %w", err)
	}
	xdsServer := xds.NewServer(log.With("component", "xds"))
	opt := reconcile.Options{
		Logger:    log.With("component", "controller"),
		Addresses: loopbackAddress,
	}
	if err := reconcile.SetupWithManager(mgr, xdsServer, opt); err != nil {
		xdsListener.Close()
		return nil, fmt.Errorf("setting up controller: %w", err)
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.cancel = cancel
	network := podnet.New()
	e.workloads = &workloads{
		client:  e.client,
		net:     network,
		start:   startHTTPBin,
		log:     log.With("component", "workloads"),
		ips:     newIPAllocator(podNetwork),
		running: map[types.NamespacedName]*replicaSet{},
	}
	e.dataPlanes = &dataPlanes{
		client:         e.client,
		controllerName: reconcile.DefaultControllerName,
		xdsAddress:     xdsListener.Addr().String(),
		network:        network,
		listenAddress:  listen,
		log:            log.With("component", "dataplane"),
		ctx:            runCtx,
		running:        map[types.NamespacedName]*runningProxy{},
	}
	if err := e.workloads.setupWithManager(mgr); err != nil {
		xdsListener.Close()
		return nil, fmt.Errorf("setting up workloads: %w", err)
	}
	if err := e.dataPlanes.setupWithManager(mgr); err != nil {
		xdsListener.Close()
		return nil, fmt.Errorf("setting up data planes: %w", err)
	}

	e.goBackground("xds server", func() error { return xdsServer.Serve(runCtx, xdsListener) })
	e.goBackground("manager", func() error { return mgr.Start(runCtx) })
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("controller caches did not sync: %w", context.Cause(ctx))
	}

	if opts.SampleApp {
		if err := e.ApplyDir(ctx, "sample-app"); err != nil {
			return nil, fmt.Errorf("installing the sample app: %w", err)
		}
	}
	return e, nil
}

// podNetwork is where simulated pods get their IPs: kind's pod range, so
// EndpointSlices look as they would on a kind cluster.
var podNetwork = netip.MustParsePrefix("10.244.0.0/16")

func loopbackAddress(types.NamespacedName) []gwv1.GatewayStatusAddress {
	return []gwv1.GatewayStatusAddress{{Type: ptr.To(gwv1.IPAddressType), Value: "127.0.0.1"}}
}

func startHTTPBin() (string, func() error, error) {
	s, err := httpbin.Start("127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	return s.Addr(), s.Close, nil
}

func (e *Env) goBackground(name string, run func() error) {
	e.background.Add(1)
	go func() {
		defer e.background.Done()
		if err := run(); err != nil && !errors.Is(err, context.Canceled) {
			e.log.Error("background task failed", "task", name, "error", err)
		}
	}()
}

// writeKubeconfig provisions an admin user and writes its kubeconfig where a
// user can point KUBECONFIG at it.
func (e *Env) writeKubeconfig() error {
	user, err := e.testEnv.AddUser(envtest.User{Name: "keyconform-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("provisioning admin user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("rendering kubeconfig: %w", err)
	}
	if e.tmpDir, err = os.MkdirTemp("", "keyconform-localenv-"); err != nil {
		return fmt.Errorf("creating temporary directory: %w", err)
	}
	e.kubeconfig = filepath.Join(e.tmpDir, "kubeconfig")
	if err := os.WriteFile(e.kubeconfig, data, 0o600); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	return nil
}

// KubeconfigPath is an admin kubeconfig for the environment's API server.
func (e *Env) KubeconfigPath() string { return e.kubeconfig }

// RESTConfig is the admin client configuration.
func (e *Env) RESTConfig() *rest.Config { return rest.CopyConfig(e.restConfig) }

// Client is a client of the environment's API server.
func (e *Env) Client() client.Client { return e.client }

// GatewayAddress waits until the data plane of gateway has bound listener
// port and returns its loopback address.
func (e *Env) GatewayAddress(ctx context.Context, gateway types.NamespacedName, port uint32) (string, error) {
	return e.dataPlanes.address(ctx, gateway, port)
}

// ApplyDir applies every manifest of a fixtures folder (e.g. "sample-app").
func (e *Env) ApplyDir(ctx context.Context, dir string) error {
	objs, err := fixtures.Objects(fixtures.FS, dir)
	if err != nil {
		return err
	}
	return applyObjects(ctx, e.client, objs)
}

// Stop tears everything down: data planes, simulated pods, the controller,
// the API server and etcd, and the temporary directory. It is safe to call
// more than once.
func (e *Env) Stop() error {
	e.stopOnce.Do(func() {
		var errs []error
		if e.dataPlanes != nil {
			e.dataPlanes.stopAll()
		}
		if e.cancel != nil {
			e.cancel()
		}
		e.background.Wait()
		if e.workloads != nil {
			errs = append(errs, e.workloads.close())
		}
		if e.testEnv != nil && e.restConfig != nil {
			if err := e.testEnv.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("stopping kube-apiserver and etcd: %w", err))
			}
		}
		if e.tmpDir != "" {
			errs = append(errs, os.RemoveAll(e.tmpDir))
		}
		e.stopErr = errors.Join(errs...)
	})
	return e.stopErr
}
