package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// trigger is the controller's only work-queue key: every event asks for
// the same global translation, so the queue deduplicates a burst.
type trigger struct{}

// SetupWithManager registers the controller, a start-up step that ensures
// the GatewayClass exists, a liveness check, and a readiness check that
// passes once that step is done and a translation has been published. The
// manager's scheme must include AddToScheme's types, and the API server
// must serve their CRDs.
func SetupWithManager(mgr manager.Manager, xds Publisher, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if xds == nil {
		return errors.New("reconcile: a Publisher (the xDS server) is required")
	}
	opts = opts.withDefaults()
	r := &reconciler{
		client:    mgr.GetClient(),
		apiReader: mgr.GetAPIReader(),
		xds:       xds,
		opts:      opts,
		log:       opts.Logger,
	}

	// Gateway, HTTPRoute, TrafficPolicy and GatewayClass carry status we
	// write: their status-only updates must not trigger us again (a status
	// someone else edits is corrected at the next translation). Labels and
	// annotations bump no generation but change the translation: a
	// targetSelector matches labels, kgateway.dev/policy-weight is an
	// annotation.
	specOnly := builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{},
		predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{}))
	b := builder.TypedControllerManagedBy[trigger](mgr).
		Named("keyconform").
		WithOptions(controller.TypedOptions[trigger]{
			// One worker: translations are global and must not interleave.
			MaxConcurrentReconciles: 1,
			// A process may run several environments one after another
			// (the local environment's tests do); the name only labels
			// metrics.
			SkipNameValidation: ptr.To(true),
		})
	for _, w := range []struct {
		obj     client.Object
		options []builder.WatchesOption
	}{
		{&gwv1.GatewayClass{}, []builder.WatchesOption{specOnly}},
		{&gwv1.Gateway{}, []builder.WatchesOption{specOnly}},
		{&gwv1.HTTPRoute{}, []builder.WatchesOption{specOnly}},
		{&v1alpha1.TrafficPolicy{}, []builder.WatchesOption{specOnly}},
		{&gwv1.ReferenceGrant{}, nil},
		// Secrets, Services, EndpointSlices and Namespaces have no
		// generation: every update counts, label changes included.
		{&corev1.Secret{}, nil},
		{&corev1.Service{}, nil},
		{&discoveryv1.EndpointSlice{}, nil},
		{&corev1.Namespace{}, nil},
	} {
		if err := served(mgr, w.obj); err != nil {
			return err
		}
		b = b.Watches(w.obj, r.enqueue(), w.options...)
	}
	if err := b.Complete(r); err != nil {
		return fmt.Errorf("building the controller: %w", err)
	}

	if err := mgr.Add(manager.RunnableFunc(r.ensureGatewayClass)); err != nil {
		return fmt.Errorf("adding the GatewayClass start-up step: %w", err)
	}
	if err := mgr.AddHealthzCheck("keyconform", healthz.Ping); err != nil {
		return fmt.Errorf("adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("keyconform-translation", r.readyz); err != nil {
		return fmt.Errorf("adding the readiness check: %w", err)
	}
	return nil
}

// served fails clearly when obj's type is missing from the scheme or its
// CRD from the API server, instead of a cache sync timing out minutes later.
func served(mgr manager.Manager, obj client.Object) error {
	gvk, err := apiutil.GVKForObject(obj, mgr.GetScheme())
	if err != nil {
		return fmt.Errorf("the manager's scheme lacks %T: build it with reconcile.AddToScheme: %w", obj, err)
	}
	if _, err := mgr.GetRESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
		if meta.IsNoMatchError(err) {
			return fmt.Errorf("the API server does not serve %s: install the CRDs (kubectl apply -f fixtures/crds): %w", gvk, err)
		}
		return fmt.Errorf("looking up %s on the API server: %w", gvk, err)
	}
	return nil
}

// enqueue maps every event to the single trigger. With a debounce the key
// waits; the queue keeps the earliest ready time, so a burst's later events
// do not postpone the translation further.
func (r *reconciler) enqueue() handler.TypedEventHandler[client.Object, trigger] {
	add := func(q workqueue.TypedRateLimitingInterface[trigger]) {
		if r.opts.Debounce > 0 {
			q.AddAfter(trigger{}, r.opts.Debounce)
			return
		}
		q.Add(trigger{})
	}
	return handler.TypedFuncs[client.Object, trigger]{
		CreateFunc: func(_ context.Context, _ event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[trigger]) {
			add(q)
		},
		UpdateFunc: func(_ context.Context, _ event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[trigger]) {
			add(q)
		},
		DeleteFunc: func(_ context.Context, _ event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[trigger]) {
			add(q)
		},
		GenericFunc: func(_ context.Context, _ event.TypedGenericEvent[client.Object], q workqueue.TypedRateLimitingInterface[trigger]) {
			add(q)
		},
	}
}

func (r *reconciler) readyz(*http.Request) error {
	switch {
	case !r.classChecked.Load():
		return fmt.Errorf("GatewayClass %s not checked yet", r.opts.GatewayClassName)
	case !r.published.Load():
		return errors.New("no translation published yet")
	}
	return nil
}
