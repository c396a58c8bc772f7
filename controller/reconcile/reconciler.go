package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
	"github.com/keyconform/keyconform/controller/translate"
	"github.com/keyconform/keyconform/controller/xds"
)

type reconciler struct {
	// client reads from the manager's cache and writes to the API server;
	// apiReader reads the API server directly, to retry a conflicting write.
	client    client.Client
	apiReader client.Reader
	xds       Publisher
	opts      Options
	log       *slog.Logger
	// published is set once a translation has reached the xDS server, and
	// classChecked once the GatewayClass has been ensured: ready needs both.
	published, classChecked atomic.Bool
}

// Reconcile runs one global translation: cache -> translate -> publish ->
// status. An error requeues the trigger with backoff.
func (r *reconciler) Reconcile(ctx context.Context, _ trigger) (crreconcile.Result, error) {
	start := time.Now()
	in, err := r.readInputs(ctx)
	if err != nil {
		return crreconcile.Result{}, err
	}
	out := translate.Translate(in)
	rejected, err := r.publish(ctx, out.Proxies)
	if err != nil {
		return crreconcile.Result{}, err
	}
	elapsed := time.Since(start)
	translationSeconds.Observe(elapsed.Seconds())
	r.published.Store(true)

	writes, err := r.writeStatuses(ctx, in, out, rejected)
	translationsTotal.Inc()
	r.log.Info("translated and published",
		"gateways", len(out.Proxies), "rejected", len(rejected),
		"duration", elapsed.Round(time.Microsecond).String(), "status_writes", writes)
	if err != nil {
		return crreconcile.Result{}, fmt.Errorf("writing status: %w", err)
	}
	return crreconcile.Result{}, nil
}

// publish hands the proxies to the xDS server. Gateways whose configuration
// was rejected are returned, so their status can say so; the server has
// logged why. Retrying would not help: the translation is deterministic.
func (r *reconciler) publish(ctx context.Context, proxies []translate.Proxy) (map[types.NamespacedName]bool, error) {
	err := r.xds.Publish(ctx, proxies)
	var pe *xds.PublishError
	if errors.As(err, &pe) {
		rejected := make(map[types.NamespacedName]bool, len(pe.Proxies))
		for _, p := range pe.Proxies {
			rejected[p.Gateway] = true
		}
		rejectedProxiesTotal.Add(float64(len(rejected)))
		return rejected, nil
	}
	if err != nil {
		return nil, fmt.Errorf("publishing xDS configuration: %w", err)
	}
	return nil, nil
}

// readInputs lists every input from the manager's cache.
func (r *reconciler) readInputs(ctx context.Context) (translate.Inputs, error) {
	var (
		namespaces      corev1.NamespaceList
		gatewayClasses  gwv1.GatewayClassList
		gateways        gwv1.GatewayList
		httpRoutes      gwv1.HTTPRouteList
		policies        v1alpha1.TrafficPolicyList
		secrets         corev1.SecretList
		referenceGrants gwv1.ReferenceGrantList
		services        corev1.ServiceList
		endpointSlices  discoveryv1.EndpointSliceList
	)
	for _, list := range []client.ObjectList{
		&namespaces, &gatewayClasses, &gateways, &httpRoutes, &policies,
		&secrets, &referenceGrants, &services, &endpointSlices,
	} {
		if err := r.client.List(ctx, list); err != nil {
			return translate.Inputs{}, fmt.Errorf("listing %T from the cache: %w", list, err)
		}
	}
	addresses := map[types.NamespacedName][]gwv1.GatewayStatusAddress{}
	for _, gw := range gateways.Items {
		key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
		if a := r.opts.Addresses(key); len(a) > 0 {
			addresses[key] = a
		}
	}
	return translate.Inputs{
		ControllerName:   r.opts.ControllerName,
		Namespaces:       namespaces.Items,
		GatewayClasses:   gatewayClasses.Items,
		Gateways:         gateways.Items,
		HTTPRoutes:       httpRoutes.Items,
		TrafficPolicies:  policies.Items,
		Secrets:          secrets.Items,
		ReferenceGrants:  referenceGrants.Items,
		Services:         services.Items,
		EndpointSlices:   endpointSlices.Items,
		GatewayAddresses: addresses,
	}, nil
}
