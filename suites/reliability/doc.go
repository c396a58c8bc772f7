// Package reliability drives a steady request stream through the reference
// implementation on the local environment while it injects faults one at a
// time (controller restart, kube-apiserver restart, xDS stream cut, data
// plane pod deletion, a NACKed update, Secret rotation and deletion) and
// records every response. It fails on any request wrongly allowed and
// reports, per fault, the requests that failed and the time to recover,
// and the revocation latency of a rotated key under load. `make
// reliability` runs it (part of `make test`); the figures go to
// $ARTIFACTS/reliability/reliability.json.
package reliability
