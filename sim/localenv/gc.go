package localenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// garbageCollector stands in for kube-controller-manager's garbage
// collector, which envtest does not run: an object all of whose owners
// are gone is deleted, so deleting a Gateway deletes what was provisioned
// for it, and its pods with it.
type garbageCollector struct {
	client client.Client
	reader client.Reader // owners are looked up on the API server
	log    *slog.Logger
}

// ownerIndex indexes dependents by their owners' UIDs.
const ownerIndex = "localenv.ownerUID"

// dependentKinds are what implementations provision for a Gateway, and the
// Deployments' ReplicaSets and Pods.
func dependentKinds() []client.Object {
	return []client.Object{
		metaOnly(appsv1.SchemeGroupVersion.WithKind("Deployment")),
		metaOnly(appsv1.SchemeGroupVersion.WithKind("ReplicaSet")),
		metaOnly(corev1.SchemeGroupVersion.WithKind("Pod")),
		metaOnly(corev1.SchemeGroupVersion.WithKind("Service")),
		metaOnly(corev1.SchemeGroupVersion.WithKind("ConfigMap")),
		metaOnly(corev1.SchemeGroupVersion.WithKind("Secret")),
		metaOnly(corev1.SchemeGroupVersion.WithKind("ServiceAccount")),
	}
}

func metaOnly(gvk schema.GroupVersionKind) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(gvk)
	return m
}

func (g *garbageCollector) setupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	for _, kind := range dependentKinds() {
		err := mgr.GetFieldIndexer().IndexField(ctx, kind, ownerIndex, func(o client.Object) []string {
			var uids []string
			for _, ref := range o.GetOwnerReferences() {
				uids = append(uids, string(ref.UID))
			}
			return uids
		})
		if err != nil {
			return fmt.Errorf("indexing owners: %w", err)
		}
	}
	for _, kind := range dependentKinds() {
		gvk := kind.GetObjectKind().GroupVersionKind()
		b := ctrl.NewControllerManagedBy(mgr).
			Named("localenv-gc-"+gvk.Kind).
			WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
			For(kind, builder.OnlyMetadata)
		// An owner's deletion is what orphans its dependents: re-examine
		// them then.
		for _, owner := range append(dependentKinds(), &gwv1.Gateway{}) {
			b = b.Watches(owner, handler.EnqueueRequestsFromMapFunc(g.dependentsOf(kind)), builder.OnlyMetadata)
		}
		if err := b.Complete(&collect{g: g, kind: gvk}); err != nil {
			return fmt.Errorf("building the garbage collector: %w", err)
		}
	}
	return nil
}

func (g *garbageCollector) dependentsOf(kind client.Object) handler.MapFunc {
	gvk := kind.GetObjectKind().GroupVersionKind()
	return func(ctx context.Context, owner client.Object) []reconcile.Request {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := g.client.List(ctx, list, client.MatchingFields{ownerIndex: string(owner.GetUID())}); err != nil {
			g.log.Error("listing dependents", "kind", gvk.Kind, "error", err)
			return nil
		}
		var out []reconcile.Request
		for _, d := range list.Items {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&d)})
		}
		return out
	}
}

type collect struct {
	g    *garbageCollector
	kind schema.GroupVersionKind
}

func (c *collect) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	obj := metaOnly(c.kind)
	if err := c.g.client.Get(ctx, req.NamespacedName, obj); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	refs := obj.GetOwnerReferences()
	if len(refs) == 0 || obj.GetDeletionTimestamp() != nil {
		return reconcile.Result{}, nil
	}
	var errs []error
	for _, ref := range refs {
		alive, err := c.g.ownerExists(ctx, obj.GetNamespace(), ref)
		if err != nil || alive {
			errs = append(errs, err)
			return reconcile.Result{}, errors.Join(errs...)
		}
	}
	err := c.g.client.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground), client.Preconditions{UID: ptr.To(obj.GetUID())})
	if client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
		return reconcile.Result{}, fmt.Errorf("deleting %s %s, whose owners are gone: %w", c.kind.Kind, req.NamespacedName, err)
	}
	c.g.log.Debug("deleted an object whose owners are gone", "kind", c.kind.Kind, "object", req.NamespacedName.String())
	return reconcile.Result{}, nil
}

// ownerExists says the object ref names exists with ref's UID. An owner of
// a kind the API server does not serve counts as gone, as for the real
// collector.
func (g *garbageCollector) ownerExists(ctx context.Context, namespace string, ref metav1.OwnerReference) (bool, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return false, nil
	}
	owner := metaOnly(gv.WithKind(ref.Kind))
	key := client.ObjectKey{Namespace: namespace, Name: ref.Name}
	// The cache answers for live owners, most lookups, without a request;
	// only the API server, not a cache that may lag, can say one is gone.
	if err := g.client.Get(ctx, key, owner); err == nil && owner.GetUID() == ref.UID {
		return true, nil
	}
	err = g.reader.Get(ctx, key, owner)
	switch {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return false, nil
	case err != nil:
		// A cluster-scoped owner looked up with a namespace fails the same
		// way on a real collector; retry later rather than delete.
		return true, fmt.Errorf("looking up owner %s %s: %w", ref.Kind, ref.Name, err)
	}
	return owner.GetUID() == ref.UID, nil
}
