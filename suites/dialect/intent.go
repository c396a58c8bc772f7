// Package dialect renders the API key auth policies of scenarios, written
// once as intent, into the policy resources of one implementation.
//
// A scenario's manifests state a policy as an APIKeyAuthPolicy of group
// intent.keyconform.dev: kgateway's TrafficPolicy vocabulary (targets with
// section names, Secrets by name or by selector, key sources, client id
// header, forward or hide the credential, disable), which is what the seed
// document teaches. Secrets, routes and backends stay plain YAML. A
// Dialect turns each intent into its implementation's resource, or says
// why it cannot (an *UnsupportedError): the scenario is then skipped for
// that implementation with the reason, never failed.
package dialect

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// IntentKind is the kind scenario manifests write policies as.
var IntentKind = schema.GroupVersionKind{Group: "intent.keyconform.dev", Version: "v1", Kind: "APIKeyAuthPolicy"}

// Intent is one API key auth policy as a scenario means it. Its spec has
// the shape of kgateway's TrafficPolicy spec; its annotations and labels
// are carried over to the rendered policy.
type Intent struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec v1alpha1.TrafficPolicySpec `json:"spec"`
}

// DeepCopyObject implements runtime.Object, so intents decode through a
// scheme as strictly as any other manifest.
func (in *Intent) DeepCopyObject() runtime.Object {
	out := &Intent{TypeMeta: in.TypeMeta}
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	in.Spec.DeepCopyInto(&out.Spec)
	return out
}

// AddToScheme registers the intent kind.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypeWithName(IntentKind, &Intent{})
	metav1.AddToGroupVersion(s, IntentKind.GroupVersion())
	return nil
}

// IsIntent reports whether gvk is the intent kind.
func IsIntent(gvk schema.GroupVersionKind) bool { return gvk == IntentKind }

// FromUnstructured decodes an intent strictly: an unknown or misspelt
// field is an error, not a silently different policy.
func FromUnstructured(u *unstructured.Unstructured) (*Intent, error) {
	var in Intent
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, &in, true); err != nil {
		return nil, fmt.Errorf("%s %s/%s: %w", IntentKind.Kind, u.GetNamespace(), u.GetName(), err)
	}
	return &in, nil
}

// UnsupportedError says why a dialect cannot express an intent.
type UnsupportedError struct {
	Dialect string
	Policy  string // namespace/name of the intent
	Reason  string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("the %s dialect cannot express policy %s: %s", e.Dialect, e.Policy, e.Reason)
}
