package targets

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/keyconform/keyconform/sim/localenv"
)

// SimGatewayClass is the GatewayClass the local environment's controller serves.
const SimGatewayClass = "kgateway"

// simTarget is the local environment running in this process.
type simTarget struct {
	env  *localenv.Env
	book *addressBook
}

func startSim(ctx context.Context, cfg Config) (Started, error) {
	env, err := localenv.Start(ctx, localenv.Options{Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("starting the local environment: %w", err)
	}
	book, err := serveAddressBook(env.GatewayAddress)
	if err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	return &simTarget{env: env, book: book}, nil
}

func (s *simTarget) RESTConfig() *rest.Config { return s.env.RESTConfig() }
func (s *simTarget) GatewayClass() string     { return SimGatewayClass }
func (s *simTarget) LoopbackOnly() bool       { return true }

func (s *simTarget) GatewayAddress(ctx context.Context, gw types.NamespacedName, port uint32) (string, error) {
	return s.env.GatewayAddress(ctx, gw, port)
}

func (s *simTarget) Handle() Handle {
	return Handle{Target: Sim, Kubeconfig: s.env.KubeconfigPath(), GatewayClass: SimGatewayClass, AddressBook: s.book.url}
}

func (s *simTarget) Stop(context.Context, bool) error {
	return errors.Join(s.book.close(), s.env.Stop())
}

// simRemote is the sim target seen from another process: the API server
// through the kubeconfig, listener addresses through the address book.
type simRemote struct {
	config *rest.Config
	book   string
	client *http.Client
}

func attachSim(h Handle) (Attached, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", h.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading the sim target's kubeconfig %s: %w", h.Kubeconfig, err)
	}
	if h.AddressBook == "" {
		return nil, errors.New("the sim target handle has no address book")
	}
	return &simRemote{config: cfg, book: h.AddressBook, client: &http.Client{}}, nil
}

func (s *simRemote) RESTConfig() *rest.Config { return rest.CopyConfig(s.config) }
func (s *simRemote) GatewayClass() string     { return SimGatewayClass }
func (s *simRemote) LoopbackOnly() bool       { return true }
func (s *simRemote) Close() error             { return nil }

func (s *simRemote) GatewayAddress(ctx context.Context, gw types.NamespacedName, port uint32) (string, error) {
	return lookupAddress(ctx, s.client, s.book, gw, port)
}
