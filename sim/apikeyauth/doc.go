// Package apikeyauth re-implements Envoy's envoy.filters.http.api_key_auth
// HTTP filter as pure functions, for the simulated data plane.
//
// Compile and CompilePerRoute validate a filter-level or per-route config and
// pre-compile it once; Effective merges the most specific per-route config
// over the filter-level one the way Envoy resolves it; Check authenticates one
// request and, on success, applies the forwarding options to it in place.
//
// Every behaviour follows Envoy's source: the filter in
// source/extensions/filters/http/api_key_auth/api_key_auth.{h,cc}, the
// query-string and cookie helpers in source/common/http/utility.cc, and the
// header map in source/common/http/header_map_impl.cc. The tests name the
// Envoy test or source each fact comes from.
package apikeyauth
