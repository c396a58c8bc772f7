package localenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/translate"
	"github.com/keyconform/keyconform/sim/dataplane"
	"github.com/keyconform/keyconform/sim/podnet"
)

// dataPlanes stands in for the Deployments kgateway provisions per Gateway:
// every Gateway of a class served by our controller gets a sim data plane,
// connected to the controller's xDS server with the Gateway's node id.
type dataPlanes struct {
	client         client.Client
	controllerName gwv1.GatewayController
	xdsAddress     string
	network        *podnet.Network
	// listenAddress says where a Gateway listener port is served locally.
	listenAddress func(port uint32) string
	log           *slog.Logger
	// ctx bounds every data plane's life; Stop cancels it.
	ctx context.Context

	mu      sync.Mutex
	running map[types.NamespacedName]*runningProxy
}

type runningProxy struct {
	proxy  *dataplane.Proxy
	ports  []uint32
	cancel context.CancelFunc
	done   chan struct{}
}

func (d *dataPlanes) setupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("localenv-dataplanes").
		// Tests run several environments in one process.
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
		For(&gwv1.Gateway{}).
		Complete(d)
}

// Reconcile starts, restarts (when the listener ports change) or stops the
// data plane of one Gateway.
func (d *dataPlanes) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var gw gwv1.Gateway
	err := d.client.Get(ctx, req.NamespacedName, &gw)
	if apierrors.IsNotFound(err) {
		d.stop(req.NamespacedName)
		return reconcile.Result{}, d.deleteService(ctx, req.NamespacedName)
	}
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("getting gateway %s: %w", req.NamespacedName, err)
	}
	ours, err := d.servedByUs(ctx, &gw)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !ours || gw.DeletionTimestamp != nil {
		d.stop(req.NamespacedName)
		return reconcile.Result{}, d.deleteService(ctx, req.NamespacedName)
	}
	ports := listenerPorts(&gw)
	if err := d.ensure(req.NamespacedName, ports); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{}, d.publishService(ctx, &gw, ports)
}

func (d *dataPlanes) servedByUs(ctx context.Context, gw *gwv1.Gateway) (bool, error) {
	var class gwv1.GatewayClass
	err := d.client.Get(ctx, types.NamespacedName{Name: string(gw.Spec.GatewayClassName)}, &class)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("getting gatewayclass %s: %w", gw.Spec.GatewayClassName, err)
	}
	return class.Spec.ControllerName == d.controllerName, nil
}

func (d *dataPlanes) ensure(key types.NamespacedName, ports []uint32) error {
	d.mu.Lock()
	current := d.running[key]
	d.mu.Unlock()
	if current != nil && slices.Equal(current.ports, ports) {
		return nil
	}
	d.stop(key)

	overrides := make(map[uint32]string, len(ports))
	for _, p := range ports {
		overrides[p] = d.listenAddress(p)
	}
	proxy, err := dataplane.New(dataplane.Options{
		XDSAddress:      d.xdsAddress,
		NodeID:          translate.NodeID(key),
		ListenOverrides: overrides,
		Network:         d.network,
		Logger:          d.log.With("gateway", key.String()),
	})
	if err != nil {
		return fmt.Errorf("creating data plane for gateway %s: %w", key, err)
	}
	ctx, cancel := context.WithCancel(d.ctx)
	rp := &runningProxy{proxy: proxy, ports: ports, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(rp.done)
		if err := proxy.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error("data plane stopped", "gateway", key.String(), "error", err)
		}
	}()
	go d.announce(ctx, key, proxy, ports)
	d.mu.Lock()
	d.running[key] = rp
	d.mu.Unlock()
	d.log.Info("started data plane", "gateway", key.String(), "ports", ports)
	return nil
}

func (d *dataPlanes) stop(key types.NamespacedName) {
	d.mu.Lock()
	rp := d.running[key]
	delete(d.running, key)
	d.mu.Unlock()
	if rp == nil {
		return
	}
	rp.cancel()
	<-rp.done
	d.log.Info("stopped data plane", "gateway", key.String())
}

// stopAll stops every data plane; the environment calls it on shutdown.
func (d *dataPlanes) stopAll() {
	d.mu.Lock()
	keys := make([]types.NamespacedName, 0, len(d.running))
	for k := range d.running {
		keys = append(keys, k)
	}
	d.mu.Unlock()
	for _, k := range keys {
		d.stop(k)
	}
}

// address waits until the Gateway's data plane has bound port and returns
// the local address serving it.
func (d *dataPlanes) address(ctx context.Context, key types.NamespacedName, port uint32) (string, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		d.mu.Lock()
		rp := d.running[key]
		d.mu.Unlock()
		if rp != nil {
			if addr, ok := rp.proxy.ListenerAddr(port); ok {
				return addr, nil
			}
		}
		select {
		case <-ctx.Done():
			if rp == nil {
				return "", fmt.Errorf("gateway %s has no data plane (is its class served by %s?): %w", key, d.controllerName, ctx.Err())
			}
			return "", fmt.Errorf("gateway %s: port %d not bound (does a listener use it, and is the route configuration accepted?): %w", key, port, ctx.Err())
		case <-tick.C:
		}
	}
}

func listenerPorts(gw *gwv1.Gateway) []uint32 {
	var ports []uint32
	for _, l := range gw.Spec.Listeners {
		ports = append(ports, uint32(l.Port))
	}
	slices.Sort(ports)
	return slices.Compact(ports)
}
