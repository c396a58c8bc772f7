// Package envoybootstrap turns an Envoy command line, and the files it
// names, into the checked configuration of a sim data plane: what Envoy
// itself would run with, or an error naming what the sim does not
// implement.
//
// The local environment runs the Envoy pods that real control planes
// create (ours, Envoy Gateway, kgateway) as sim data planes configured
// only from what the pod spec gives Envoy: the container's command line
// (FromContainer, ParseArgs) and its bootstrap file or inline YAML, read
// through a FileReader that stands for the pod's mounted ConfigMaps and
// Secrets (Load).
//
// Both steps follow Envoy: the command line is parsed as Envoy's TCLAP
// parser does (source/server/options_impl.cc); the bootstrap is read by
// file extension, merged with --config-yaml and overridden by
// --service-node, --service-cluster and --service-zone as Envoy's server
// does (source/server/server.cc, source/common/local_info/local_info_impl.h),
// then validated with the API's protoc-gen-validate rules.
//
// Nothing is silently dropped. Every flag, and every bootstrap field that
// is set, is either implemented, accepted as having no effect on the
// sim's traffic (listed in Config.Ignored with the reason, for a start-up
// log line), or an error naming it. The bootstrap is walked by protobuf
// reflection against explicit tables (fields.go), so a field added to the
// Envoy API later is an error until someone decides what it means here.
//
// The static listeners and clusters are passed on as protos: the data
// plane compiles them and rejects what it does not implement, as it does
// for xDS resources. The ADS cluster is the exception: the xDS client
// dials it, so Load checks it completely and returns its address and TLS
// settings (ADS) instead.
package envoybootstrap
