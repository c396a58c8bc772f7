package targets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/sim/localenv"
	"github.com/keyconform/keyconform/suites/harness"
)

// The sim target runs one control plane: the project's reference controller
// (the kgateway dialect, GatewayClass kgateway) or Envoy Gateway's own
// (GatewayClass EnvoyGatewayClass).
const SimGatewayClass = "kgateway"

// SimImplementations maps the dialects the sim target runs to their
// control plane and GatewayClass.
var SimImplementations = map[string]struct{ ControlPlane, GatewayClass string }{
	"kgateway":      {localenv.ImplKeyconform, SimGatewayClass},
	"envoy-gateway": {localenv.ImplEnvoyGateway, EnvoyGatewayClass},
}

// simTarget is the local environment running in this process.
type simTarget struct {
	env          *localenv.Env
	gatewayClass string
	artifacts    string
}

func startSim(ctx context.Context, cfg Config) (_ Started, err error) {
	impl := SimImplementations[cfg.Implementation]
	env, err := localenv.Start(ctx, localenv.Options{Logger: cfg.Logger, Implementation: impl.ControlPlane})
	if err != nil {
		return nil, fmt.Errorf("starting the local environment: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, env.Stop())
		}
	}()
	if impl.ControlPlane == localenv.ImplEnvoyGateway {
		class := envoyGatewayClass(nil)
		if err := env.Client().Create(ctx, class); err != nil {
			return nil, fmt.Errorf("creating GatewayClass %s: %w", impl.GatewayClass, err)
		}
	}
	return &simTarget{env: env, gatewayClass: impl.GatewayClass, artifacts: cfg.Artifacts}, nil
}

func (s *simTarget) RESTConfig() *rest.Config { return s.env.RESTConfig() }
func (s *simTarget) GatewayClass() string     { return s.gatewayClass }
func (s *simTarget) LoopbackOnly() bool       { return true }

func (s *simTarget) GatewayAddress(ctx context.Context, gw types.NamespacedName, port uint32) (string, error) {
	return s.env.GatewayAddress(ctx, gw, port)
}

func (s *simTarget) AdminAddress(ctx context.Context, gw types.NamespacedName) (string, error) {
	return s.env.AdminAddress(ctx, gw)
}

func (s *simTarget) Handle() Handle {
	return Handle{Target: Sim, Kubeconfig: s.env.KubeconfigPath(), GatewayClass: s.gatewayClass}
}

// Stop stops the environment, keeping Envoy Gateway's log (it goes with
// the environment) under the artifacts: the run's leak scan reads it.
func (s *simTarget) Stop(context.Context, bool) error {
	var keep error
	if log := s.env.EnvoyGatewayLog(); log != "" && s.artifacts != "" {
		keep = copyFile(log, filepath.Join(s.artifacts, "logs", "envoy-gateway.log"))
	}
	return errors.Join(keep, s.env.Stop())
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(to), 0o755)
	}
	if err == nil {
		err = os.WriteFile(to, data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("keeping %s: %w", from, err)
	}
	return nil
}

// simRemote is the sim target seen from another process: the API server
// through the kubeconfig, and listener addresses from the annotation the
// environment writes on each Gateway (its ports are ephemeral). It reads
// Gateways and Pods from an informer cache: every scenario waits for
// addresses, and polling the API server for them, from each process, was
// a large share of the API server's work, which shares the machine's
// cores with the implementation under test.
type simRemote struct {
	config       *rest.Config
	reader       client.Reader
	gatewayClass string
	stop         context.CancelFunc
}

func attachSim(h Handle) (Attached, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", h.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading the sim target's kubeconfig %s: %w", h.Kubeconfig, err)
	}
	scheme, err := clusterScheme()
	if err != nil {
		return nil, err
	}
	c, err := cache.New(cfg, cache.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the sim target's API server: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	for _, obj := range []client.Object{&gwv1.Gateway{}, &corev1.Pod{}} {
		if _, err := c.GetInformer(ctx, obj); err != nil {
			stop()
			return nil, fmt.Errorf("watching the sim target's %T: %w", obj, err)
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		stop()
		return nil, errors.New("the sim target's API server did not answer the watches of Gateways and Pods")
	}
	return &simRemote{config: cfg, reader: c, gatewayClass: h.GatewayClass, stop: stop}, nil
}

func (s *simRemote) RESTConfig() *rest.Config { return rest.CopyConfig(s.config) }
func (s *simRemote) GatewayClass() string     { return s.gatewayClass }
func (s *simRemote) LoopbackOnly() bool       { return true }
func (s *simRemote) Close() error             { s.stop(); return nil }

// GatewayAddress waits for the Gateway's listener addresses annotation to
// name port.
func (s *simRemote) GatewayAddress(ctx context.Context, gw types.NamespacedName, port uint32) (string, error) {
	return localenv.WaitListenerAddress(ctx, s.reader, gw, port)
}

func (s *simRemote) AdminAddress(ctx context.Context, gw types.NamespacedName) (string, error) {
	return localenv.WaitAdminAddress(ctx, s.reader, gw)
}

var (
	_ harness.DataPlanes = (*simTarget)(nil)
	_ harness.DataPlanes = (*simRemote)(nil)
)
