// Package translate turns Gateway API objects, TrafficPolicies and Secrets
// into Envoy resources and the status each object should carry. It is a pure
// function: no I/O, no clock, no randomness, so its output is golden-tested.
package translate

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// Inputs is everything the translator reads. Lists may be in any order;
// the output does not depend on it.
type Inputs struct {
	// ControllerName selects the GatewayClasses (spec.controllerName) this
	// translation is responsible for.
	ControllerName gwv1.GatewayController

	// Namespaces are consulted for listeners' allowedRoutes selectors.
	Namespaces []corev1.Namespace

	GatewayClasses  []gwv1.GatewayClass
	Gateways        []gwv1.Gateway
	HTTPRoutes      []gwv1.HTTPRoute
	TrafficPolicies []v1alpha1.TrafficPolicy
	Secrets         []corev1.Secret
	ReferenceGrants []gwv1.ReferenceGrant
	Services        []corev1.Service
	EndpointSlices  []discoveryv1.EndpointSlice

	// GatewayAddresses are the addresses whatever runs the data plane
	// reports for each Gateway; they are copied into Gateway status.
	GatewayAddresses map[types.NamespacedName][]gwv1.GatewayStatusAddress
}

// Output is the result of one translation.
type Output struct {
	// Proxies holds one entry per Gateway of a managed GatewayClass, sorted
	// by namespace/name.
	Proxies []Proxy

	// Statuses are what each object's status should become. Conditions
	// carry ObservedGeneration but a zero LastTransitionTime: the writer
	// keeps the existing time when a condition's status is unchanged.
	GatewayClasses  map[string]gwv1.GatewayClassStatus
	Gateways        map[types.NamespacedName]gwv1.GatewayStatus
	HTTPRoutes      map[types.NamespacedName][]gwv1.RouteParentStatus
	TrafficPolicies map[types.NamespacedName]gwv1.PolicyStatus
}

// Proxy is the complete Envoy configuration for one Gateway.
type Proxy struct {
	Gateway types.NamespacedName
	// NodeID is the xDS node id the Gateway's data plane presents:
	// "<namespace>/<name>" of the Gateway (see NodeID).
	NodeID string

	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	// Secrets are the certificates HTTPS listeners name (SDS), sorted by
	// name. They hold private keys: never log them.
	Secrets []*tlsv3.Secret
}

// NodeID is the xDS node id convention: the Gateway's "<namespace>/<name>".
func NodeID(gateway types.NamespacedName) string {
	return gateway.Namespace + "/" + gateway.Name
}
