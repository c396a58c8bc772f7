package dialect

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// KGateway renders intents as kgateway's TrafficPolicy: the intent's spec
// unchanged, so every default (header api-key, credential hidden) is left
// to the implementation, as the seed document leaves it.
type KGateway struct{}

func (KGateway) Name() string           { return "kgateway" }
func (KGateway) Implementation() string { return "kgateway" }

func (KGateway) ControllerNames() []string {
	// keyconform.dev/controller is the reference controller, which speaks
	// kgateway's dialect.
	return []string{"kgateway.dev/kgateway", "keyconform.dev/controller"}
}

func (KGateway) PolicyKind() schema.GroupVersionKind {
	return v1alpha1.GroupVersion.WithKind("TrafficPolicy")
}

func (d KGateway) Render(in *Intent) (*unstructured.Unstructured, error) {
	return toUnstructured(d.PolicyKind(), &v1alpha1.TrafficPolicy{ObjectMeta: in.ObjectMeta, Spec: in.Spec})
}
