// Package controlplane assembles the reference controller: the scheme, the
// controller-runtime manager, the xDS server, the translation reconciler
// and, optionally, the Envoy provisioner. The controller binary, the local
// environment and the envtest tests all build the controller here, so they
// run the same wiring.
package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/provision"
	"github.com/keyconform/keyconform/controller/reconcile"
	"github.com/keyconform/keyconform/controller/xds"
)

// Options configure New. The zero value gives a controller of the default
// class that provisions nothing, reports no Gateway addresses and serves no
// metrics or health endpoints.
type Options struct {
	// ControllerName and GatewayClassName: see reconcile.Options.
	ControllerName   gwv1.GatewayController
	GatewayClassName string
	// Provision, when set, gives every Gateway of our classes an Envoy
	// Deployment, Service, ConfigMap and ServiceAccount, and takes Gateway
	// status addresses from that Service.
	Provision *provision.Config
	// Addresses supplies Gateway status addresses when Provision is nil.
	Addresses reconcile.AddressSource
	// Debounce: see reconcile.Options.
	Debounce time.Duration
	// MetricsAddress and HealthAddress are host:port of the Prometheus and
	// /healthz, /readyz endpoints; "" or "0" disables them.
	MetricsAddress, HealthAddress string
	// Logger receives every component's logs; nil discards them.
	Logger *slog.Logger
}

// EnvoyProvisioning is provisioning with the default Envoy image and
// Service type, Envoy pods reaching the controller's xDS server at
// xdsAddress (host:port, a Service DNS name in a cluster).
func EnvoyProvisioning(xdsAddress string) *provision.Config {
	cfg := provision.DefaultConfig()
	cfg.XDSAddress = xdsAddress
	return &cfg
}

// ControlPlane is an assembled controller that has not started yet.
type ControlPlane struct {
	mgr manager.Manager
	xds *xds.Server
	log *slog.Logger
}

// New builds the controller against the API server of cfg. It fails when
// an option is invalid or a CRD the controller reads is not installed.
func New(cfg *rest.Config, opts Options) (*ControlPlane, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Provision != nil && opts.Addresses != nil {
		return nil, errors.New("controlplane: Addresses and Provision are exclusive: provisioned Gateways take their addresses from their Service")
	}
	scheme := runtime.NewScheme()
	if err := reconcile.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("building the scheme: %w", err)
	}
	mopts := ctrl.Options{
		Scheme:                 scheme,
		Logger:                 logr.FromSlogHandler(log.Handler()),
		Metrics:                metricsserver.Options{BindAddress: disabledIfEmpty(opts.MetricsAddress)},
		HealthProbeBindAddress: disabledIfEmpty(opts.HealthAddress),
	}
	if opts.Provision != nil {
		mopts.Cache.ByObject = provision.CacheByObject()
	}
	mgr, err := ctrl.NewManager(cfg, mopts)
	if err != nil {
		return nil, fmt.Errorf("creating the controller manager: %w", err)
	}
	addresses := opts.Addresses
	if opts.Provision != nil {
		addresses = provision.Addresses(mgr.GetClient())
		if err := provision.SetupWithManager(mgr, provision.Options{
			Config:         *opts.Provision,
			ControllerName: opts.ControllerName,
			Logger:         log.With("component", "provision"),
		}); err != nil {
			return nil, err
		}
	}
	server := xds.NewServer(log.With("component", "xds"))
	if err := reconcile.SetupWithManager(mgr, server, reconcile.Options{
		ControllerName:   opts.ControllerName,
		GatewayClassName: opts.GatewayClassName,
		Addresses:        addresses,
		Debounce:         opts.Debounce,
		Logger:           log.With("component", "reconcile"),
	}); err != nil {
		return nil, err
	}
	return &ControlPlane{mgr: mgr, xds: server, log: log}, nil
}

func disabledIfEmpty(addr string) string {
	if addr == "" {
		return "0"
	}
	return addr
}

// Run serves xDS on lis and runs the manager until ctx ends or either
// fails; it closes lis.
func (c *ControlPlane) Run(ctx context.Context, lis net.Listener) error {
	c.log.Info("control plane starting", "xds", lis.Addr().String())
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.xds.Serve(ctx, lis) })
	g.Go(func() error { return c.mgr.Start(ctx) })
	return g.Wait()
}
