// Package provision runs a Gateway's data plane in a cluster, as kgateway
// does: for each Gateway of a GatewayClass this controller serves, a
// Deployment of Envoy, a Service, a ConfigMap holding Envoy's bootstrap and
// a ServiceAccount, all named after the Gateway in its namespace and owned
// by it (so `kubectl port-forward deployment/<gateway>` reaches the proxy,
// and deleting the Gateway deletes them).
//
// Envoy's bootstrap (Bootstrap) points it at the controller's xDS server
// with the node id "<namespace>/<name>" of its Gateway; everything else
// reaches it over ADS. Objects and Bootstrap are pure functions; the
// reconciler applies their output with server-side apply; Addresses reads
// Gateway status addresses back from the provisioned Service.
package provision
