package dataplane

import (
	bandwidthlimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/bandwidth_limit/v3"
	basicauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/basic_auth/v3"
	bufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/buffer/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	csrfv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/csrf/v3"
	customresponsev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/custom_response/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	jwtauthnv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	oauth2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/oauth2/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	statefulsessionv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/stateful_session/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// inertPerRouteTypes are per-route config types of Envoy HTTP filters the
// sim does not have (each filter factory's createEmptyRouteConfigProto).
// Envoy's PerFilterConfigs (source/common/router/per_filter_config.cc)
// builds a per-route config by its type, whether or not the named filter
// is in the connection manager's chain: it accepts a valid one, and it
// changes nothing unless that filter runs. A connection manager with one
// of these filters is rejected by the sim (compileHTTPFilters), so the
// sim accepts these configs after checking them with their
// protoc-gen-validate rules, as Envoy's translateOpaqueConfig does; the
// filter-specific checks of Envoy's factories (compiling a Lua script, an
// RBAC policy's CEL, ...) are not repeated.
var inertPerRouteTypes = func() map[protoreflect.FullName]bool {
	out := map[protoreflect.FullName]bool{}
	for _, m := range []proto.Message{
		(*bandwidthlimitv3.BandwidthLimit)(nil),
		(*basicauthv3.BasicAuthPerRoute)(nil),
		(*bufferv3.BufferPerRoute)(nil),
		(*compressorv3.CompressorPerRoute)(nil),
		(*corsv3.CorsPolicy)(nil),
		(*csrfv3.CsrfPolicy)(nil),
		(*customresponsev3.CustomResponse)(nil),
		(*extauthzv3.ExtAuthzPerRoute)(nil),
		(*extprocv3.ExtProcPerRoute)(nil),
		(*faultv3.HTTPFault)(nil),
		(*headermutationv3.HeaderMutationPerRoute)(nil),
		(*jwtauthnv3.PerRouteConfig)(nil),
		(*localratelimitv3.LocalRateLimit)(nil),
		(*luav3.LuaPerRoute)(nil),
		(*oauth2v3.OAuth2PerRoute)(nil),
		(*ratelimitv3.RateLimitPerRoute)(nil),
		(*rbacv3.RBACPerRoute)(nil),
		(*statefulsessionv3.StatefulSessionPerRoute)(nil),
	} {
		out[m.ProtoReflect().Descriptor().FullName()] = true
	}
	return out
}()
