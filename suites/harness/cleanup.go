package harness

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// cleanup deletes what the scenario applied, newest first, then its
// namespaces. It runs even when ctx is done.
func (x *execution) cleanup(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for i := len(x.applied) - 1; i >= 0; i-- {
		a := x.applied[i]
		if err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
			return deleteObject(ctx, x.res, a.obj)
		}); err != nil {
			errs = append(errs, fmt.Errorf("cleanup: deleting %s: %w", a, err))
		}
	}
	for _, name := range x.namespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
			return deleteObject(ctx, x.res, ns)
		}); err != nil {
			errs = append(errs, fmt.Errorf("cleanup: deleting namespace %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
