// Package xds serves translated Envoy configuration to data planes over
// ADS (aggregated discovery, gRPC, state of the world, v3 types).
//
// Every Gateway is one xDS node: its data plane presents the node id
// "<namespace>/<name>" of the Gateway (translate.NodeID) and receives a
// snapshot holding only that Gateway's listeners, routes, clusters,
// endpoints and the certificates of its HTTPS listeners (SDS over ADS).
// Before anything is published each resource, and every message packed
// inside it, passes its generated ValidateAll(), the snapshot passes
// Consistent(), and the Secrets are exactly those the listeners name; a
// proxy that fails keeps its previous snapshot.
//
// API keys and TLS private keys found in the resources are redacted from
// every error and log line the server makes, NACK messages included.
//
// Versions are content hashes computed per resource type, so an identical
// republish sends nothing and a change to, say, an API key Secret only
// bumps the route configuration's version (a certificate's, the Secrets').
package xds
