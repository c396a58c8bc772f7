package harness

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// Environment is where scenarios run: a Kubernetes API with an
// implementation of TrafficPolicy.apiKeyAuth behind a GatewayClass, and a
// way to reach each Gateway's listeners.
type Environment interface {
	RESTConfig() *rest.Config
	// GatewayClass is the class scenario Gateways use.
	GatewayClass() string
	// GatewayAddress returns "host:port" where the listener on port of the
	// Gateway accepts requests, waiting until it does or ctx ends.
	GatewayAddress(ctx context.Context, gateway types.NamespacedName, port uint32) (string, error)
	// LoopbackOnly says the suite must refuse to send traffic anywhere but
	// loopback (the sim target).
	LoopbackOnly() bool
}
