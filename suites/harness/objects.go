package harness

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/e2e-framework/klient/decoder"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"

	"github.com/keyconform/keyconform/suites/scenario"
)

// appliedObject is an object the scenario created or replaced, kept for
// cleanup and for naming mutations ("update Secret").
type appliedObject struct {
	obj  k8s.Object
	gvk  schema.GroupVersionKind
	verb string // create or update
}

func (a appliedObject) String() string {
	return fmt.Sprintf("%s %s/%s", a.gvk.Kind, a.obj.GetNamespace(), a.obj.GetName())
}

// decodeManifest renders a manifest template and decodes every document
// (typed for built-in kinds, unstructured for CRDs).
func decodeManifest(ctx context.Context, fsys fs.FS, file string, rn *scenario.Renderer) ([]k8s.Object, error) {
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", file, err)
	}
	text, err := rn.Render(file, string(raw))
	if err != nil {
		return nil, err
	}
	objs, err := decoder.DecodeAll(ctx, strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("decoding manifest %s: %w", file, err)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("manifest %s holds no object", file)
	}
	return objs, nil
}

func kindOf(obj k8s.Object) (schema.GroupVersionKind, error) {
	if gvk := obj.GetObjectKind().GroupVersionKind(); !gvk.Empty() {
		return gvk, nil
	}
	return apiutil.GVKForObject(obj, scheme.Scheme)
}

// CreateOrReplace creates obj, or replaces an existing one whole (so an
// entry or label missing from the manifest is removed, as a user editing
// the object would), retrying on write conflicts. It returns "create" or
// "update". Field validation is strict: a field the cluster's CRD does not
// know is an error, never a silently different test.
func CreateOrReplace(ctx context.Context, res *resources.Resources, obj k8s.Object) (string, error) {
	gvk, err := kindOf(obj)
	if err != nil {
		return "", err
	}
	c := res.GetControllerRuntimeClient()
	strict := client.FieldValidation(metav1.FieldValidationStrict)
	err = c.Create(ctx, obj, strict)
	if err == nil || !apierrors.IsAlreadyExists(err) {
		return "create", err
	}
	return "update", retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current := &unstructured.Unstructured{}
		current.SetGroupVersionKind(gvk)
		if err := res.Get(ctx, obj.GetName(), obj.GetNamespace(), current); err != nil {
			return err
		}
		obj.SetResourceVersion(current.GetResourceVersion())
		return c.Update(ctx, obj, strict)
	})
}

// deleteObject deletes obj; an object already gone is fine.
func deleteObject(ctx context.Context, res *resources.Resources, obj k8s.Object) error {
	err := res.Delete(ctx, obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// getUnstructured reads the object of kind gvk named name in namespace.
func getUnstructured(ctx context.Context, res *resources.Resources, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	err := res.Get(ctx, name, namespace, u)
	return u, err
}

// awaitObject polls the object until check returns "" (ready) or timeout
// passes; the error carries check's last explanation.
func awaitObject(ctx context.Context, res *resources.Resources, gvk schema.GroupVersionKind, namespace, name string,
	poll, timeout, apiTimeout time.Duration, check func(*unstructured.Unstructured) string) error {
	var why string
	st := awaitConsistent(ctx, poll, timeout, 1, func(ctx context.Context) bool {
		var u *unstructured.Unstructured
		err := withTimeout(ctx, apiTimeout, func(ctx context.Context) error {
			var err error
			u, err = getUnstructured(ctx, res, gvk, namespace, name)
			return err
		})
		if err != nil {
			why = err.Error()
			return false
		}
		why = check(u)
		return why == ""
	})
	if !st.Held {
		return fmt.Errorf("%s %s/%s is not ready after %v: %s", gvk.Kind, namespace, name, timeout, why)
	}
	return nil
}

// AwaitDeploymentAvailable waits until a Deployment reports Available=True.
func AwaitDeploymentAvailable(ctx context.Context, res *resources.Resources, namespace, name string, timeout time.Duration) error {
	return awaitObject(ctx, res, deploymentKind, namespace, name, 500*time.Millisecond, timeout, 30*time.Second, deploymentAvailable)
}

var deploymentKind = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}

// withTimeout bounds one API call.
func withTimeout(ctx context.Context, d time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}
