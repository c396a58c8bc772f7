package localenv

import (
	"context"
	"errors"
	"fmt"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// warmWatchCaches lists every served version of each CRD once. The API
// server builds a custom resource's storage, and with it the watch cache,
// on the first request for it, and refuses watches while that cache fills
// with 429 and Retry-After: 1 s. client-go's informers open with such a
// watch (a streaming list), so every controller started on a fresh
// environment lost a second or more before its caches synced (measured:
// the reference controller 1.3 s, Envoy Gateway 2.2 s). A list builds the
// cache and is answered from etcd meanwhile.
func warmWatchCaches(ctx context.Context, cfg *rest.Config, crds []*apiextensionsv1.CustomResourceDefinition) error {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("warming the API server's watch caches: %w", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	// In parallel: the first request for a resource builds its storage,
	// which takes tens of milliseconds each.
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			gvr := schema.GroupVersionResource{Group: crd.Spec.Group, Version: v.Name, Resource: crd.Spec.Names.Plural}
			wg.Go(func() {
				if _, err := client.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("listing %s: %w", gvr, err))
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}
