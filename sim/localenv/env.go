// Package localenv is the local environment: a real etcd and kube-apiserver
// (controller-runtime's envtest), the project's CRDs, the reference
// controller provisioning Envoy Deployments as on a cluster, and what a
// cluster would add around them: a kubelet that runs Deployments of the
// images it knows in process (go-httpbin, and Envoy as sim data planes
// configured from their own bootstrap) on a simulated pod network, cluster
// DNS and Service routing on that network, a load balancer giving each
// LoadBalancer Service its own loopback address, and a garbage collector.
// Nothing needs Docker or a kubelet, and no traffic leaves loopback.
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

	"math/rand/v2"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/event"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
	"github.com/keyconform/keyconform/controller/controlplane"
	"github.com/keyconform/keyconform/fixtures"
	"github.com/keyconform/keyconform/sim/kubeassets"
	"github.com/keyconform/keyconform/sim/podnet"
	"github.com/keyconform/keyconform/sim/rundir"
)

// Options configure Start. The zero value gives a test environment:
// load balancer addresses anywhere in 127.0.0.0/8, nothing installed
// beyond the CRDs.
type Options struct {
	Logger *slog.Logger
	// SeedLoopback gives the seed's Gateway (kgateway-system/http) the load
	// balancer address 127.0.0.1, as `make run` documents, and every other
	// load balancer an address from 127.0.0.2 up; otherwise addresses start
	// at a random point of 127.0.0.0/8, so environments running side by
	// side rarely meet.
	SeedLoopback bool
	// ListenOverrides serve the seed Gateway's listener ports elsewhere on
	// loopback, e.g. 8080 -> "127.0.0.1:9080" when 8080 is taken.
	ListenOverrides map[uint32]string
	// SampleApp installs the seed's "Before you begin" state: Gateway
	// kgateway-system/http and the httpbin sample app.
	SampleApp bool
	// EnvoyImages are image repositories, besides envoyproxy/envoy, whose
	// containers run as sim data planes (implementations that wrap Envoy
	// in an image of their own).
	EnvoyImages []string
	// Implementation is the control plane that serves Gateways:
	// ImplKeyconform (the default: the reference controller, the seed's
	// sample app) or ImplEnvoyGateway (Envoy Gateway's own control plane,
	// built by `make tools-envoy-gateway`, and the state of its
	// quickstart).
	Implementation string
}

// Implementations the environment can run.
const (
	ImplKeyconform   = "keyconform"
	ImplEnvoyGateway = "envoy-gateway"
)

// implementation is what differs between implementations: CRDs, how the
// control plane starts, the sample app and its Gateway.
type implementation struct {
	sampleApp     string // fixtures folder
	sampleGateway types.NamespacedName
	samplePort    uint32
}

var implementations = map[string]implementation{
	ImplKeyconform:   {sampleApp: "sample-app", sampleGateway: SeedGateway, samplePort: 8080},
	ImplEnvoyGateway: {sampleApp: "envoy-gateway-quickstart", sampleGateway: types.NamespacedName{Namespace: "default", Name: "eg"}, samplePort: 80},
}

// CheckImplementation says whether name is an implementation Start runs,
// and if not which are.
func CheckImplementation(name string) error {
	if _, ok := implementations[name]; ok || name == "" {
		return nil
	}
	return fmt.Errorf("unknown implementation %q: want %s or %s", name, ImplKeyconform, ImplEnvoyGateway)
}

// SeedGateway is the seed document's Gateway.
var SeedGateway = types.NamespacedName{Namespace: "kgateway-system", Name: "http"}

// controllerXDS is the Service through which provisioned Envoy pods reach
// the controller's xDS server, as fixtures/deploy installs it on a cluster.
var controllerXDS = types.NamespacedName{Namespace: "kgateway-system", Name: "keyconform-controller"}

// Env is a running local environment. Stop it to release every process,
// port and temporary file.
type Env struct {
	log        *slog.Logger
	testEnv    *envtest.Environment
	restConfig *rest.Config
	client     client.Client
	kubeconfig string
	// run holds every file of the environment, and its child processes
	// die with it (rundir).
	run *rundir.Dir

	cancel       context.CancelFunc
	runCtx       context.Context
	background   sync.WaitGroup
	controller   *controllerRun
	impl         implementation
	envoyGateway *envoyGateway
	kubelet      *kubelet
	loadBalancer *loadBalancer
	network      *podnet.Network
	podIPs       *ipAllocator
	stopOnce     sync.Once
	stopErr      error
}

// Start brings the environment up. On any error everything started so far
// is stopped again.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for port, addr := range opts.ListenOverrides {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || !ap.Addr().IsLoopback() {
			return nil, fmt.Errorf("listen override for port %d: %q is not a loopback IP:port (e.g. 127.0.0.1:9080)", port, addr)
		}
	}
	if opts.Implementation == "" {
		opts.Implementation = ImplKeyconform
	}
	if err := CheckImplementation(opts.Implementation); err != nil {
		return nil, err
	}
	impl := implementations[opts.Implementation]
	run, err := rundir.Claim()
	if err != nil {
		return nil, err
	}
	e := &Env{log: log, impl: impl, run: run}
	defer func() {
		if err != nil {
			err = errors.Join(err, e.Stop())
		}
	}()
	cp, err := kubeassets.ControlPlane(run)
	if err != nil {
		return nil, err
	}
	var eg kubeassets.EnvoyGateway
	var withCRDs []*unstructured.Unstructured // applied once the API server runs
	crds, err := fixtures.CRDs()
	if opts.Implementation == ImplEnvoyGateway {
		if eg, err = kubeassets.FindEnvoyGateway(); err != nil {
			return nil, err
		}
		crds, withCRDs, err = fixtures.CRDsFrom(os.DirFS(eg.CRDs), ".")
	}
	if err != nil {
		return nil, fmt.Errorf("loading CRDs: %w", err)
	}
	testEnv := &envtest.Environment{ControlPlane: cp, CRDs: crds}

	// controller-runtime logs through logr; route it to the same handler.
	ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
	e.testEnv = testEnv
	if e.restConfig, err = e.testEnv.Start(); err != nil {
		return nil, fmt.Errorf("starting etcd and kube-apiserver (%s): %w", testEnv.ControlPlane.APIServer.Path, err)
	}
	if err := e.writeKubeconfig(); err != nil {
		return nil, err
	}
	if err := warmWatchCaches(ctx, e.restConfig, crds); err != nil {
		return nil, err
	}

	mgr, err := newManager(e.restConfig)
	if err != nil {
		return nil, err
	}
	e.client = mgr.GetClient()

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.cancel, e.runCtx = cancel, runCtx
	network := podnet.New()
	pods := newIPAllocator(podNetwork)
	e.kubelet = &kubelet{
		client:   e.client,
		reader:   mgr.GetAPIReader(),
		net:      network,
		runtimes: runtimes(opts.EnvoyImages),
		ips:      pods,
		log:      log.With("component", "kubelet"),
		ctx:      runCtx,
		wake:     make(chan event.GenericEvent),
		pods:     map[types.NamespacedName]*runningPod{},
	}
	e.loadBalancer = &loadBalancer{
		client:    e.client,
		net:       network,
		log:       log.With("component", "load-balancer"),
		overrides: opts.ListenOverrides,
		pool:      loadBalancerPool(opts.SeedLoopback),
		running:   map[types.NamespacedName]*balancer{},
	}
	if opts.SeedLoopback {
		e.loadBalancer.pinned = map[types.NamespacedName]netip.Addr{impl.sampleGateway: netip.MustParseAddr("127.0.0.1")}
	}
	gc := &garbageCollector{client: e.client, reader: mgr.GetAPIReader(), log: log.With("component", "gc")}
	for name, setup := range map[string]func() error{
		"kubelet":       func() error { return e.kubelet.setupWithManager(mgr) },
		"service proxy": func() error { return (&serviceProxy{client: e.client, net: network}).setupWithManager(mgr) },
		"load balancer": func() error { return e.loadBalancer.setupWithManager(mgr) },
		"gc":            func() error { return gc.setupWithManager(ctx, mgr) },
	} {
		if err := setup(); err != nil {
			return nil, fmt.Errorf("setting up the %s: %w", name, err)
		}
	}
	e.goBackground("environment", func() error { return mgr.Start(runCtx) })
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the environment's caches did not sync: %w", context.Cause(ctx))
	}
	e.network, e.podIPs = network, pods
	if err := applyObjects(ctx, e.client, withCRDs); err != nil {
		return nil, fmt.Errorf("installing what comes with the CRDs: %w", err)
	}

	if opts.Implementation == ImplEnvoyGateway {
		if e.envoyGateway, err = e.startEnvoyGateway(ctx, eg); err != nil {
			return nil, err
		}
	} else if err := e.startController(ctx, runCtx); err != nil {
		return nil, err
	}

	if opts.SampleApp {
		if err := e.ApplyDir(ctx, impl.sampleApp); err != nil {
			return nil, fmt.Errorf("installing the sample app: %w", err)
		}
	}
	return e, nil
}

// startController runs the reference controller as on a cluster: it
// provisions an Envoy Deployment per Gateway, which the kubelet runs as a
// sim. It has a manager of its own: its cache holds only what it needs,
// the environment's must see everything, as a cluster's components do.
func (e *Env) startController(ctx, runCtx context.Context) error {
	if err := e.runController(runCtx, "127.0.0.1:0"); err != nil {
		return err
	}
	return e.PublishHostService(ctx, controllerXDS, controllerXDSPort, e.controller.xds)
}

// runController starts the reference controller serving xDS on xdsAddr.
func (e *Env) runController(runCtx context.Context, xdsAddr string) error {
	provisioning := controlplane.EnvoyProvisioning(fmt.Sprintf("%s.%s.svc.cluster.local:%d", controllerXDS.Name, controllerXDS.Namespace, controllerXDSPort))
	cp, err := controlplane.New(e.restConfig, controlplane.Options{Provision: provisioning, Logger: e.log.With("component", "controller")})
	if err != nil {
		return err
	}
	xdsListener, err := net.Listen("tcp", xdsAddr)
	if err != nil {
		return fmt.Errorf("listening for xDS: %w", err)
	}
	ctx, cancel := context.WithCancel(runCtx)
	run := &controllerRun{cancel: cancel, done: make(chan struct{}), xds: xdsListener.Addr().(*net.TCPAddr).AddrPort()}
	e.controller = run
	e.goBackground("controller", func() error {
		defer close(run.done)
		return cp.Run(ctx, xdsListener)
	})
	return nil
}

// SampleGateway is the sample app's Gateway and its listener port.
func (e *Env) SampleGateway() (types.NamespacedName, uint32) {
	return e.impl.sampleGateway, e.impl.samplePort
}

// SampleGatewayOf is the sample app's Gateway and listener port for an
// implementation (the default one for "").
func SampleGatewayOf(implementation string) (types.NamespacedName, uint32) {
	if implementation == "" {
		implementation = ImplKeyconform
	}
	impl := implementations[implementation]
	return impl.sampleGateway, impl.samplePort
}

// newManager is the manager of the environment's own controllers (kubelet,
// service proxy, load balancer, garbage collector): built-in kinds and those
// of the CRDs the environment installs, no metrics or health endpoints.
func newManager(cfg *rest.Config) (ctrl.Manager, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, gwv1.Install, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("building the scheme: %w", err)
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, fmt.Errorf("creating the environment's manager: %w", err)
	}
	return mgr, nil
}

// controllerXDSPort is the xDS port of the controller's Service.
const controllerXDSPort = 18000

// podNetwork is where simulated pods get their IPs: kind's pod range, so
// EndpointSlices look as they would on a kind cluster.
var podNetwork = netip.MustParsePrefix("10.244.0.0/16")

// loadBalancerPool hands out load balancer addresses from 127.0.0.2 up, or
// from a random point of 127.0.0.0/8.
func loadBalancerPool(fromTwo bool) *ipAllocator {
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	if fromTwo {
		return newIPAllocator(loopback)
	}
	start := netip.AddrFrom4([4]byte{127, byte(16 + rand.IntN(224)), byte(rand.IntN(256)), 0})
	return &ipAllocator{prefix: loopback, last: start}
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
	e.kubeconfig = filepath.Join(e.run.Path(), "kubeconfig")
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

// GatewayAddress waits until the load balancer of gateway serves listener
// port and returns the loopback address it serves it at.
func (e *Env) GatewayAddress(ctx context.Context, gateway types.NamespacedName, port uint32) (string, error) {
	return WaitListenerAddress(ctx, e.client, gateway, port)
}

// PublishHostService makes a process of this machine listening on local (a
// loopback address) reachable from pods as Service svc on port, by its DNS
// name: a Service without selector and an EndpointSlice at a simulated
// address that the pod network maps to local. Control planes running as
// local processes (ours, Envoy Gateway's) serve their xDS that way.
func (e *Env) PublishHostService(ctx context.Context, svc types.NamespacedName, port int32, local netip.AddrPort) error {
	if !local.Addr().IsLoopback() {
		return fmt.Errorf("host service %s: %s is not a loopback address", svc, local)
	}
	ip, err := e.podIPs.next()
	if err != nil {
		return err
	}
	h := hostService{Namespace: svc.Namespace, Name: svc.Name, Port: port, Local: local}
	return h.publish(ctx, e.client, e.network, ip)
}

// AdminAddress waits until a data plane pod of gateway runs and returns the
// loopback address of its admin interface.
func (e *Env) AdminAddress(ctx context.Context, gateway types.NamespacedName) (string, error) {
	return WaitAdminAddress(ctx, e.client, gateway)
}

// WaitAdminAddress waits until a data plane pod of gateway announces the
// loopback address of its admin interface and returns it. The pods are
// found by the labels implementations put on them (as gatewayOf finds
// their Services).
func WaitAdminAddress(ctx context.Context, c client.Reader, gateway types.NamespacedName) (string, error) {
	for {
		var pods corev1.PodList
		err := c.List(ctx, &pods)
		if err == nil {
			for _, p := range pods.Items {
				if gw, ok := gatewayOf(&p.ObjectMeta); ok && gw == gateway && p.DeletionTimestamp == nil && p.Annotations[AdminAddressAnnotation] != "" {
					return p.Annotations[AdminAddressAnnotation], nil
				}
			}
			err = fmt.Errorf("no pod of Gateway %s announces its admin address yet", gateway)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %w", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
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
		if e.loadBalancer != nil {
			e.loadBalancer.stopAll()
		}
		errs = append(errs, e.envoyGateway.stop())
		if e.cancel != nil {
			e.cancel()
		}
		e.background.Wait()
		if e.kubelet != nil {
			errs = append(errs, e.kubelet.close())
		}
		if e.testEnv != nil && e.restConfig != nil {
			// etcd's data and the API server's certificates go with the run
			// directory: a graceful shutdown would keep nothing, and took
			// about a second of each run's teardown.
			if err := e.run.Kill(); err != nil {
				errs = append(errs, fmt.Errorf("stopping kube-apiserver and etcd: %w", err))
			}
			if err := e.testEnv.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("stopping kube-apiserver and etcd: %w", err))
			}
		}
		errs = append(errs, e.run.Release())
		e.stopErr = errors.Join(errs...)
	})
	return e.stopErr
}
