package reconcile

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ensureGatewayClass runs once at start: it creates the GatewayClass named
// by the options for our controller unless it exists. One that exists with
// another controller name belongs to someone else and is left alone. API
// errors are retried until ctx ends.
func (r *reconciler) ensureGatewayClass(ctx context.Context) error {
	return wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		if err := ensureGatewayClass(ctx, r.apiReader, r.client, r.opts); err != nil {
			r.log.Error("ensuring the GatewayClass exists; retrying", "gatewayclass", r.opts.GatewayClassName, "error", err)
			return false, nil
		}
		r.classChecked.Store(true)
		return true, nil
	})
}

func ensureGatewayClass(ctx context.Context, reader client.Reader, writer client.Writer, opts Options) error {
	gc := &gwv1.GatewayClass{}
	err := reader.Get(ctx, client.ObjectKey{Name: opts.GatewayClassName}, gc)
	if apierrors.IsNotFound(err) {
		gc = &gwv1.GatewayClass{
			ObjectMeta: metav1.ObjectMeta{Name: opts.GatewayClassName},
			Spec:       gwv1.GatewayClassSpec{ControllerName: opts.ControllerName},
		}
		err = writer.Create(ctx, gc)
		if err == nil {
			opts.Logger.Info("created the GatewayClass", "gatewayclass", gc.Name, "controller", gc.Spec.ControllerName)
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating GatewayClass %s: %w", opts.GatewayClassName, err)
		}
		// Created by someone else meanwhile: look at theirs.
		err = reader.Get(ctx, client.ObjectKey{Name: opts.GatewayClassName}, gc)
	}
	if err != nil {
		return fmt.Errorf("reading GatewayClass %s: %w", opts.GatewayClassName, err)
	}
	if gc.Spec.ControllerName != opts.ControllerName {
		opts.Logger.Warn("the GatewayClass belongs to another controller; leaving it, and its Gateways are not served",
			"gatewayclass", gc.Name, "controller", gc.Spec.ControllerName, "ours", opts.ControllerName)
		return nil
	}
	opts.Logger.Info("the GatewayClass exists", "gatewayclass", gc.Name, "controller", gc.Spec.ControllerName)
	return nil
}
