package targets

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/keyconform/keyconform/sim/localenv"
)

// SimGatewayClass is the GatewayClass the local environment's controller serves.
const SimGatewayClass = "kgateway"

// simTarget is the local environment running in this process.
type simTarget struct {
	env *localenv.Env
}

func startSim(ctx context.Context, cfg Config) (Started, error) {
	env, err := localenv.Start(ctx, localenv.Options{Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("starting the local environment: %w", err)
	}
	return &simTarget{env: env}, nil
}

func (s *simTarget) RESTConfig() *rest.Config { return s.env.RESTConfig() }
func (s *simTarget) GatewayClass() string     { return SimGatewayClass }
func (s *simTarget) LoopbackOnly() bool       { return true }

func (s *simTarget) GatewayAddress(ctx context.Context, gw types.NamespacedName, port uint32) (string, error) {
	return s.env.GatewayAddress(ctx, gw, port)
}

func (s *simTarget) Handle() Handle {
	return Handle{Target: Sim, Kubeconfig: s.env.KubeconfigPath(), GatewayClass: SimGatewayClass}
}

func (s *simTarget) Stop(context.Context, bool) error { return s.env.Stop() }

// simRemote is the sim target seen from another process: the API server
// through the kubeconfig, and listener addresses from the annotation the
// environment writes on each Gateway (its ports are ephemeral).
type simRemote struct {
	config *rest.Config
	client client.Client
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
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the sim target's API server: %w", err)
	}
	return &simRemote{config: cfg, client: c}, nil
}

func (s *simRemote) RESTConfig() *rest.Config { return rest.CopyConfig(s.config) }
func (s *simRemote) GatewayClass() string     { return SimGatewayClass }
func (s *simRemote) LoopbackOnly() bool       { return true }
func (s *simRemote) Close() error             { return nil }

// GatewayAddress waits for the Gateway's listener addresses annotation to
// name port.
func (s *simRemote) GatewayAddress(ctx context.Context, gw types.NamespacedName, port uint32) (string, error) {
	return localenv.WaitListenerAddress(ctx, s.client, gw, port)
}
