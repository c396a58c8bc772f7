package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/reconcile"
)

// Options configure SetupWithManager.
type Options struct {
	Config Config
	// ControllerName selects the GatewayClasses whose Gateways get a data
	// plane. Default reconcile.DefaultControllerName.
	ControllerName gwv1.GatewayController
	// Logger receives the provisioner's logs; nil discards them.
	Logger *slog.Logger
}

// SetupWithManager registers the provisioner: every Gateway of a class
// whose controllerName is ours gets the Objects of its data plane, kept as
// generated (server-side apply) when the Gateway, its class or one of the
// objects changes. The manager's scheme must include reconcile.AddToScheme's
// types; its cache should use CacheByObject.
func SetupWithManager(mgr manager.Manager, opts Options) error {
	if opts.ControllerName == "" {
		opts.ControllerName = reconcile.DefaultControllerName
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := errors.Join(opts.Config.Validate(), reconcile.ValidateControllerName(string(opts.ControllerName))); err != nil {
		return fmt.Errorf("provisioning options: %w", err)
	}
	r := &reconciler{
		client:     mgr.GetClient(),
		apiReader:  mgr.GetAPIReader(),
		cfg:        opts.Config,
		controller: opts.ControllerName,
		log:        opts.Logger,
	}
	b := builder.ControllerManagedBy(mgr).
		Named("keyconform-provision").
		WithOptions(controller.Options{
			// A process may run several managers one after another (tests
			// do); the name only labels metrics.
			SkipNameValidation: ptr.To(true),
		}).
		// Status writes (the reconcile package's) change no generation.
		For(&gwv1.Gateway{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&gwv1.GatewayClass{}, handler.EnqueueRequestsFromMapFunc(r.gatewaysOfClass))
	for _, obj := range kinds() {
		b = b.Owns(obj)
	}
	if err := b.Complete(r); err != nil {
		return fmt.Errorf("building the provisioner: %w", err)
	}
	return nil
}

// CacheByObject restricts the manager's cache to the Deployments,
// ConfigMaps and ServiceAccounts this controller provisions, so it holds
// no copy of every ConfigMap in the cluster. Services stay whole: the
// translator reads them all.
func CacheByObject() map[client.Object]cache.ByObject {
	mine := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{ManagedByLabel: ManagedBy})}
	out := map[client.Object]cache.ByObject{}
	for _, obj := range kinds() {
		if obj.GetObjectKind().GroupVersionKind().Kind != "Service" {
			out[obj] = mine
		}
	}
	return out
}

// gatewaysOfClass maps a GatewayClass event to its Gateways: a class
// created late, or changing controller, changes what is provisioned.
func (r *reconciler) gatewaysOfClass(ctx context.Context, obj client.Object) []crreconcile.Request {
	var list gwv1.GatewayList
	if err := r.client.List(ctx, &list); err != nil {
		r.log.Error("listing Gateways for a GatewayClass change", "gatewayclass", obj.GetName(), "error", err)
		return nil
	}
	var out []crreconcile.Request
	for _, gw := range list.Items {
		if string(gw.Spec.GatewayClassName) == obj.GetName() {
			out = append(out, crreconcile.Request{NamespacedName: types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}})
		}
	}
	return out
}
