package provision

import (
	"context"
	"fmt"
	"log/slog"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// reconciler keeps each Gateway of our GatewayClasses provisioned.
type reconciler struct {
	// client reads from the manager's cache, which holds only labelled
	// Deployments, ConfigMaps and ServiceAccounts (CacheByObject);
	// apiReader reads the API server, to find an unlabelled object in the
	// way of one we would create.
	client     client.Client
	apiReader  client.Reader
	cfg        Config
	controller gwv1.GatewayController
	log        *slog.Logger
}

func (r *reconciler) Reconcile(ctx context.Context, req crreconcile.Request) (crreconcile.Result, error) {
	var gw gwv1.Gateway
	if err := r.client.Get(ctx, req.NamespacedName, &gw); err != nil {
		// A deleted Gateway's objects go with it: it owns them.
		return crreconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !gw.DeletionTimestamp.IsZero() {
		return crreconcile.Result{}, nil
	}
	ours, err := r.serves(ctx, &gw)
	if err != nil {
		return crreconcile.Result{}, err
	}
	if !ours {
		return crreconcile.Result{}, r.release(ctx, &gw)
	}
	objs, err := Objects(&gw, r.cfg)
	if err != nil {
		// Only a change to the Gateway can fix this, and that change
		// brings it back here: no retry.
		r.log.Error("cannot provision the Gateway's data plane", "gateway", req.NamespacedName, "error", err)
		return crreconcile.Result{}, nil
	}
	// Every name is checked before anything is written, so a Gateway
	// whose names are taken gets nothing rather than half a data plane.
	for _, obj := range objs {
		if err := r.checkFree(ctx, &gw, obj); err != nil {
			return crreconcile.Result{}, err
		}
	}
	for _, obj := range objs {
		if err := r.apply(ctx, obj); err != nil {
			return crreconcile.Result{}, err
		}
	}
	r.log.Debug("data plane applied", "gateway", req.NamespacedName)
	return crreconcile.Result{}, nil
}

// serves says the Gateway's class is one of ours.
func (r *reconciler) serves(ctx context.Context, gw *gwv1.Gateway) (bool, error) {
	var gc gwv1.GatewayClass
	err := r.client.Get(ctx, types.NamespacedName{Name: string(gw.Spec.GatewayClassName)}, &gc)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading GatewayClass %s: %w", gw.Spec.GatewayClassName, err)
	}
	return gc.Spec.ControllerName == r.controller, nil
}

// checkFree fails when an object of obj's kind and name exists that is not
// this Gateway's: that one is left alone and the error says so.
func (r *reconciler) checkFree(ctx context.Context, gw *gwv1.Gateway, obj client.Object) error {
	key := client.ObjectKeyFromObject(obj)
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	existing := obj.DeepCopyObject().(client.Object)
	err := r.client.Get(ctx, key, existing)
	if apierrors.IsNotFound(err) {
		err = r.apiReader.Get(ctx, key, existing)
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading %s %s: %w", kind, key, err)
	case !controlledBy(existing, gw):
		return fmt.Errorf("%s %s exists and was not provisioned by %s for Gateway %s, so it is left alone and the Gateway gets no data plane: "+
			"delete or rename that %s, or rename the Gateway", kind, key, ManagedBy, client.ObjectKeyFromObject(gw), kind)
	}
	return nil
}

// apply creates or updates obj by server-side apply.
func (r *reconciler) apply(ctx context.Context, obj client.Object) error {
	u, err := ApplyForm(obj)
	if err != nil {
		return err
	}
	if err := r.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", u.GetKind(), client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// release deletes what was provisioned for a Gateway that is no longer of
// our class.
func (r *reconciler) release(ctx context.Context, gw *gwv1.Gateway) error {
	key := client.ObjectKeyFromObject(gw)
	for _, obj := range kinds() {
		kind := obj.GetObjectKind().GroupVersionKind().Kind
		if err := r.client.Get(ctx, key, obj); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return fmt.Errorf("reading %s %s: %w", kind, key, err)
		}
		if !controlledBy(obj, gw) {
			continue
		}
		if err := r.client.Delete(ctx, obj, client.Preconditions{UID: ptr.To(obj.GetUID())}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting %s %s of Gateway %s, whose class is not ours: %w", kind, key, key, err)
		}
		r.log.Info("deleted the data plane object of a Gateway whose class is not ours", "gateway", key, "kind", kind)
	}
	return nil
}

// controlledBy says obj is what this controller provisioned for gw: its
// label, and gw as controlling owner. Another implementation's objects may
// name the same Gateway as owner; they are never touched.
func controlledBy(obj metav1.Object, gw *gwv1.Gateway) bool {
	ref := metav1.GetControllerOf(obj)
	return obj.GetLabels()[ManagedByLabel] == ManagedBy && ref != nil && ref.UID == gw.UID
}
