// Package reconcile is the controller: it watches every input of the
// translator (GatewayClasses, Gateways, HTTPRoutes, ReferenceGrants,
// TrafficPolicies, Secrets, whether API keys or listener certificates,
// Services, EndpointSlices, Namespaces) and, on any change, runs one
// global translation from the manager's cache, publishes the resulting
// Envoy configuration and writes the status each object should carry,
// only where it differs.
//
// All events map to a single work-queue key, so a burst of changes is
// batched into few translations: the queue holds the key at most once, and
// a short debounce lets a burst land before the key is handed out.
package reconcile
