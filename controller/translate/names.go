package translate

import (
	"strconv"

	"k8s.io/apimachinery/pkg/types"
)

// Names shared with the data plane (see the brief's shared conventions).
const (
	hcmFilterName        = "envoy.filters.network.http_connection_manager"
	apiKeyAuthFilterName = "envoy.filters.http.api_key_auth"
	routerFilterName     = "envoy.filters.http.router"
	tlsInspectorName     = "envoy.filters.listener.tls_inspector"
	tlsTransportName     = "envoy.transport_sockets.tls"

	// invalidRouteBody is kgateway's body for a route replaced because its
	// configuration (here: its API key auth policy) is invalid.
	invalidRouteBody = "invalid route configuration detected and replaced with a direct response."

	// anyHostname is the virtual host domain of a listener and route that
	// both leave the hostname open.
	anyHostname = "*"
)

// listenerName names the Envoy listener of a Gateway port; its
// RouteConfiguration carries the same name.
func listenerName(port int32) string {
	return "listener~" + strconv.Itoa(int(port))
}

// secretName names the SDS Secret holding the certificate of one
// Kubernetes Secret; listeners refer to it by this name.
func secretName(secret types.NamespacedName) string {
	return secret.Namespace + "/" + secret.Name
}

// virtualHostName names the virtual host of one hostname on one listener.
func virtualHostName(listener, hostname string) string {
	return listener + "~" + hostname
}

// clusterName names the EDS cluster (and its ClusterLoadAssignment) of one
// Service port.
func clusterName(service types.NamespacedName, port int32) string {
	return "kube_" + service.Namespace + "_" + service.Name + "_" + strconv.Itoa(int(port))
}

// envoyRouteName names the Envoy route of one match of one HTTPRoute rule.
func envoyRouteName(route types.NamespacedName, rule, match int) string {
	return "httproute/" + route.Namespace + "/" + route.Name +
		"/rule/" + strconv.Itoa(rule) + "/match/" + strconv.Itoa(match)
}

func keyOf(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}
