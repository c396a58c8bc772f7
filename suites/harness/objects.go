package harness

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
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

// FieldManager owns the fields of everything the suites apply.
const FieldManager = "keyconform-suites"

// Apply applies obj server-side as FieldManager, taking fields over from
// any other manager, as `kubectl apply --server-side --force-conflicts`
// does: the object ends as the manifest says, and a field the suites
// applied before and the manifest no longer has is removed. Field
// validation is strict: a field the cluster's CRD does not know is an
// error, never a silently different test. obj is left as it was.
func Apply(ctx context.Context, res *resources.Resources, obj k8s.Object) error {
	u, err := applyConfiguration(obj)
	if err != nil {
		return err
	}
	data, err := json.Marshal(u.Object)
	if err != nil {
		return fmt.Errorf("encoding %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return res.Patch(ctx, u, k8s.Patch{PatchType: types.ApplyPatchType, Data: data}, func(o *metav1.PatchOptions) {
		o.FieldManager, o.Force, o.FieldValidation = FieldManager, ptr.To(true), metav1.FieldValidationStrict
	})
}

// applyConfiguration is obj as an apply request: unstructured, without
// what the server sets, and a Secret's stringData moved into data. The API
// server turns stringData into data on every write, so a key applied as
// stringData is owned under a field that never exists, and removing it
// from the manifest would leave it in the Secret.
func applyConfiguration(obj k8s.Object) (*unstructured.Unstructured, error) {
	gvk, err := kindOf(obj)
	if err != nil {
		return nil, err
	}
	fields, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj.DeepCopyObject())
	if err != nil {
		return nil, fmt.Errorf("converting %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	u := &unstructured.Unstructured{Object: fields}
	u.SetGroupVersionKind(gvk)
	for _, f := range []string{"resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"} {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(u.Object, "status")
	if gvk.Group != "" || gvk.Kind != "Secret" {
		return u, nil
	}
	stringData, _, err := unstructured.NestedStringMap(u.Object, "stringData")
	if err != nil {
		return nil, fmt.Errorf("Secret %s: stringData: %w", u.GetName(), err)
	}
	if len(stringData) == 0 {
		return u, nil
	}
	data, _, err := unstructured.NestedMap(u.Object, "data")
	if err != nil {
		return nil, fmt.Errorf("Secret %s: data: %w", u.GetName(), err)
	}
	if data == nil {
		data = map[string]any{}
	}
	// As the API server does: stringData wins over data.
	for k, v := range stringData {
		data[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	unstructured.RemoveNestedField(u.Object, "stringData")
	return u, unstructured.SetNestedMap(u.Object, data, "data")
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

// awaitObject waits until check returns "" (ready) for the object or
// timeout passes; the error carries check's last explanation.
func awaitObject(ctx context.Context, res *resources.Resources, gvk schema.GroupVersionKind, namespace, name string,
	timeout, apiTimeout time.Duration, check func(*unstructured.Unstructured) string) error {
	why := "not read yet"
	err := follow(ctx, res, gvk, namespace, name, timeout, apiTimeout, func(u *unstructured.Unstructured, err error) bool {
		if err != nil {
			why = err.Error()
			return false
		}
		why = check(u)
		return why == ""
	})
	if err != nil {
		return fmt.Errorf("%s %s/%s is not ready after %v: %s", gvk.Kind, namespace, name, timeout, why)
	}
	return nil
}

// AwaitDeploymentAvailable waits until a Deployment reports Available=True.
func AwaitDeploymentAvailable(ctx context.Context, res *resources.Resources, namespace, name string, timeout time.Duration) error {
	return awaitObject(ctx, res, deploymentKind, namespace, name, timeout, 30*time.Second, deploymentAvailable)
}

var deploymentKind = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}

// withTimeout bounds one API call.
func withTimeout(ctx context.Context, d time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}
