package harness

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"
)

// rewatchPause is how long follow waits before reading the object again
// after a failed read or watch.
const rewatchPause = 100 * time.Millisecond

// follow calls seen with the object (or the error reading it) now and
// after every change to it, until seen returns true, timeout passes or ctx
// ends. It reads
// the object once, then watches it from that version: a wait costs the API
// server one request, however long it lasts, and sees a change as soon as
// it is written. (Polling at the suites' 20 ms made GETs of Gateways the
// API server's most frequent request.)
func follow(ctx context.Context, res *resources.Resources, gvk schema.GroupVersionKind, namespace, name string,
	timeout, apiTimeout time.Duration, seen func(*unstructured.Unstructured, error) bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wc, err := client.NewWithWatch(res.GetConfig(), client.Options{Scheme: res.GetScheme(), Mapper: res.GetControllerRuntimeClient().RESTMapper()})
	if err != nil {
		return fmt.Errorf("watch client: %w", err)
	}
	for {
		var u *unstructured.Unstructured
		err := withTimeout(ctx, apiTimeout, func(ctx context.Context) error {
			var err error
			u, err = getUnstructured(ctx, res, gvk, namespace, name)
			return err
		})
		if seen(u, err) {
			return nil
		}
		version := ""
		if err == nil {
			version = u.GetResourceVersion()
		} else if !apierrors.IsNotFound(err) {
			if err := pause(ctx, rewatchPause); err != nil {
				return err
			}
			continue
		}
		done, err := watchFrom(ctx, wc, gvk, namespace, name, version, seen)
		switch {
		case done:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		}
		if err != nil {
			if err := pause(ctx, rewatchPause); err != nil {
				return err
			}
		}
	}
}

// watchFrom feeds seen the object's changes after version ("": its current
// state first) until seen returns true (done), the watch ends, or ctx does.
func watchFrom(ctx context.Context, wc client.WithWatch, gvk schema.GroupVersionKind, namespace, name, version string,
	seen func(*unstructured.Unstructured, error) bool) (done bool, err error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	opts := []client.ListOption{
		client.MatchingFields{"metadata.name": name},
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: version}},
	}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	w, err := wc.Watch(ctx, list, opts...)
	if err != nil {
		return false, err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case ev, open := <-w.ResultChan():
			if !open {
				return false, nil
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				if u, ok := ev.Object.(*unstructured.Unstructured); ok && seen(u, nil) {
					return true, nil
				}
			case watch.Deleted:
				if seen(nil, apierrors.NewNotFound(gvk.GroupVersion().WithResource(gvk.Kind).GroupResource(), name)) {
					return true, nil
				}
			case watch.Error:
				return false, apierrors.FromObject(ev.Object)
			}
		}
	}
}
