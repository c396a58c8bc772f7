package dataplane

import "google.golang.org/protobuf/reflect/protoreflect"

// What the sim does with each field of an HttpConnectionManager, when set,
// in the manner of clusterfields.go: walked by reflection before the
// connection manager is compiled, so a field this table does not list (one
// added to the API later included) is rejected (NACK) naming it. The value
// checks that need more than presence (codec_type HTTP2, add_user_agent
// true, the protocol options' values) stay in compileHCM and
// compileRequestHandling, with Envoy's own messages where Envoy has one.
var hcmFieldRules = map[protoreflect.FullName]map[protoreflect.Name]fieldRule{
	"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager": {
		"codec_type":                       implemented, // AUTO and HTTP1; HTTP2 and HTTP3 are rejected by compileHCM
		"rds":                              implemented, // over ADS only
		"route_config":                     implemented,
		"http_filters":                     implemented, // compiled by compileHTTPFilters
		"add_user_agent":                   implemented, // false only
		"common_http_protocol_options":     implemented, // headers_with_underscores_action; the rest rejected by compileRequestHandling
		"http_protocol_options":            implemented, // every set field rejected by compileRequestHandling
		"server_name":                      implemented,
		"server_header_transformation":     implemented,
		"stream_idle_timeout":              implemented,
		"use_remote_address":               implemented,
		"xff_num_trusted_hops":             implemented,
		"internal_address_config":          implemented,
		"skip_xff_append":                  implemented,
		"via":                              implemented,
		"generate_request_id":              implemented,
		"preserve_external_request_id":     implemented,
		"forward_client_cert_details":      implemented,
		"upgrade_configs":                  implemented,
		"normalize_path":                   implemented,
		"merge_slashes":                    implemented,
		"path_with_escaped_slashes_action": implemented,
		"strip_matching_host_port":         implemented,
		"strip_any_host_port":              implemented,
		"strip_trailing_host_dot":          implemented,

		"stat_prefix":                         neutral(whyStats),
		"record_route_resolution_stats":       neutral(whyStats),
		"access_log":                          neutral(whyAccessLog),
		"access_log_flush_interval":           neutral(whyAccessLog),
		"flush_access_log_on_new_request":     neutral(whyAccessLog),
		"access_log_options":                  neutral(whyAccessLog),
		"http2_protocol_options":              neutral("options of HTTP/2 downstream connections; the sim serves HTTP/1.1 only and rejects codec_type HTTP2"),
		"http3_protocol_options":              neutral("options of HTTP/3 downstream connections; the sim serves HTTP/1.1 only and rejects codec_type HTTP3"),
		"set_current_client_cert_details":     neutral("details of a client certificate, which the sim never asks for (client certificates are rejected in DownstreamTlsContext)"),
		"add_proxy_protocol_connection_state": neutral("PROXY protocol state, which needs a listener filter (rejected)"),
		"append_local_overload":               neutral("the sim is never overloaded"),

		"scoped_routes":                                     rejected("scoped route configurations"),
		"tracing":                                           rejected("tracing"),
		"http1_safe_max_connection_duration":                rejected("HTTP/1 connection draining"),
		"scheme_header_transformation":                      rejected(":scheme rewriting"),
		"max_request_headers_kb":                            rejected("a request header size limit"),
		"stream_flush_timeout":                              rejected("the stream flush timeout"),
		"request_timeout":                                   rejected("the request timeout"),
		"request_headers_timeout":                           rejected("the request headers timeout"),
		"drain_timeout":                                     rejected("connection draining"),
		"drain_timeout_jitter":                              rejected("connection draining"),
		"delayed_close_timeout":                             rejected("the delayed close timeout"),
		"original_ip_detection_extensions":                  rejected("original IP detection extensions"),
		"early_header_mutation_extensions":                  rejected("early header mutations"),
		"always_set_request_id_in_response":                 rejected("the request id in responses"),
		"forward_client_cert_matcher":                       rejected("the forwarded client certificate matcher"),
		"proxy_100_continue":                                rejected("proxying 100-continue"),
		"represent_ipv4_remote_address_as_ipv4_mapped_ipv6": rejected("IPv4-mapped IPv6 remote addresses"),
		"request_id_extension":                              rejected("request id extensions"),
		"local_reply_config":                                rejected("local reply mappers"),
		"stream_error_on_invalid_http_message":              rejected("stream errors on invalid HTTP messages"),
		"path_normalization_options":                        rejected("path normalisation options"),
		"proxy_status_config":                               rejected("the Proxy-Status header"),
		"typed_header_validation_config":                    rejected("header validators"),
		"append_x_forwarded_port":                           rejected("x-forwarded-port"),
		"forward_proto_config":                              rejected("x-forwarded-proto configuration"),
	},
}

// whyAccessLog is why access log settings change nothing the sim serves.
const whyAccessLog = "access logs write records of requests and change none (the sim keeps no access log)"
