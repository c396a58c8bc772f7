// Package xds serves translated Envoy configuration to data planes over
// ADS (aggregated discovery, gRPC, state of the world, v3 types).
//
// Every Gateway is one xDS node: its data plane presents the node id
// "<namespace>/<name>" of the Gateway (translate.NodeID) and receives a
// snapshot holding only that Gateway's listeners, routes, clusters and
// endpoints. Before anything is published each resource, and every message
// packed inside it, passes its generated ValidateAll(), and the snapshot
// passes Consistent(); a proxy that fails keeps its previous snapshot.
//
// Versions are content hashes computed per resource type, so an identical
// republish sends nothing and a change to, say, a Secret only bumps the
// route configuration's version.
package xds
