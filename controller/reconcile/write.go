package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
	"github.com/keyconform/keyconform/controller/translate"
)

// writeStatuses writes the status of every object whose computed status
// differs from its current one, and returns how many it wrote.
func (r *reconciler) writeStatuses(ctx context.Context, in translate.Inputs, out translate.Output, rejected map[types.NamespacedName]bool) (int, error) {
	// The API server keeps seconds; so do we, so a written time reads back equal.
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	controller := r.opts.ControllerName
	var (
		writes int
		errs   []error
	)
	record := func(wrote bool, err error) {
		if wrote {
			writes++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}

	for i := range in.GatewayClasses {
		desired, ok := out.GatewayClasses[in.GatewayClasses[i].Name]
		if !ok {
			continue
		}
		record(r.write(ctx, &in.GatewayClasses[i], "GatewayClass", func(obj client.Object) bool {
			o := obj.(*gwv1.GatewayClass)
			return setIfChanged(&o.Status, gatewayClassStatus(o.Status, desired, now))
		}))
	}
	for i := range in.Gateways {
		key := client.ObjectKeyFromObject(&in.Gateways[i])
		desired, ok := out.Gateways[key]
		if !ok {
			continue
		}
		if rejected[key] {
			desired = *desired.DeepCopy()
			markRejected(&desired, in.Gateways[i].Generation)
		}
		record(r.write(ctx, &in.Gateways[i], "Gateway", func(obj client.Object) bool {
			o := obj.(*gwv1.Gateway)
			return setIfChanged(&o.Status, gatewayStatus(o.Status, desired, now))
		}))
	}
	// Every route and policy is visited, not only those in the output, so
	// that our entries are removed from those we no longer serve.
	for i := range in.HTTPRoutes {
		desired := out.HTTPRoutes[client.ObjectKeyFromObject(&in.HTTPRoutes[i])]
		record(r.write(ctx, &in.HTTPRoutes[i], "HTTPRoute", func(obj client.Object) bool {
			o := obj.(*gwv1.HTTPRoute)
			return setIfChanged(&o.Status.Parents, routeParents(o.Status.Parents, desired, controller, now))
		}))
	}
	for i := range in.TrafficPolicies {
		desired := out.TrafficPolicies[client.ObjectKeyFromObject(&in.TrafficPolicies[i])]
		record(r.write(ctx, &in.TrafficPolicies[i], "TrafficPolicy", func(obj client.Object) bool {
			o := obj.(*v1alpha1.TrafficPolicy)
			return setIfChanged(&o.Status.Ancestors, policyAncestors(o.Status.Ancestors, desired.Ancestors, controller, now))
		}))
	}
	return writes, errors.Join(errs...)
}

// setIfChanged stores next in *current unless they are semantically equal
// (nil and empty lists are equal), and says whether it did.
func setIfChanged[T any](current *T, next T) bool {
	if equality.Semantic.DeepEqual(*current, next) {
		return false
	}
	*current = next
	return true
}

// write updates the status of a copy of obj when apply changes it. On a
// conflict (someone else wrote meanwhile) it re-reads the object from the
// API server and applies again. An object deleted meanwhile is skipped.
func (r *reconciler) write(ctx context.Context, obj client.Object, kind string, apply func(client.Object) bool) (bool, error) {
	obj = obj.DeepCopyObject().(client.Object)
	wrote := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !apply(obj) {
			return nil
		}
		err := r.client.Status().Update(ctx, obj)
		if apierrors.IsConflict(err) {
			if gerr := r.apiReader.Get(ctx, client.ObjectKeyFromObject(obj), obj); gerr != nil {
				return gerr
			}
		}
		wrote = err == nil
		return err
	})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("updating the status of %s %s: %w", kind, client.ObjectKeyFromObject(obj), err)
	}
	if wrote {
		statusWritesTotal.WithLabelValues(kind).Inc()
	}
	return wrote, nil
}
