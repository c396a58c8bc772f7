// Package harness runs conformance scenarios against a live
// implementation: it interprets the steps of package scenario against a
// Kubernetes API and an implementation's Gateways. A Runner creates each
// scenario's namespaces, applies its manifests through the run's policy
// dialect, waits until Deployments are available and Gateways programmed,
// then runs the steps: manifest changes as API calls, request expectations
// as HTTP requests repeated until the response consistently matches, status
// expectations as polls of live objects. It sweeps for leaked keys, cleans
// up, and records how long each change took to be seen.
//
// What a scenario means is package scenario's; this package owns only how
// it is carried out, so the scenario language stays usable without a
// cluster (lint, policy rendering, reports).
package harness
