package harness

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/e2e-framework/klient/k8s"
)

// cleanup deletes what the scenario applied, then its namespaces, each
// group in parallel: the scenario is over, so the order of deletions no
// longer matters, and sequential API calls were a tenth of a scenario's
// time. It runs even when ctx is done.
func (x *execution) cleanup(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	var mu sync.Mutex
	var errs []error
	deleteAll := func(objs []k8s.Object, names []string) {
		var wg sync.WaitGroup
		for i, o := range objs {
			wg.Go(func() {
				err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
					return deleteObject(ctx, x.res, o)
				})
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("cleanup: deleting %s: %w", names[i], err))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	var objs []k8s.Object
	var names []string
	for _, a := range x.applied {
		objs, names = append(objs, a.obj), append(names, a.String())
	}
	deleteAll(objs, names)
	objs, names = nil, nil
	for _, name := range x.namespaces {
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
		names = append(names, "namespace "+name)
	}
	deleteAll(objs, names)
	return errors.Join(errs...)
}
