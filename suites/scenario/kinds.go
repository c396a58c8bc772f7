package scenario

import (
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/keyconform/keyconform/suites/dialect"
)

// Kinds whose status conditions scenarios check, and which they patch.
var (
	SecretKind = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}
	// PolicyKind is the intent kind scenarios write policies as; the run's
	// dialect renders it into the implementation's policy kind.
	PolicyKind         = dialect.IntentKind
	HTTPRouteKind      = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}
	GatewayKind        = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "Gateway"}
	ReferenceGrantKind = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1beta1", Kind: "ReferenceGrant"}
)
