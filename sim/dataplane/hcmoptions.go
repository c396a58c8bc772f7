package dataplane

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// compileRequestHandling compiles the connection manager fields that decide
// how a request is read before it is routed: the path policy, the protocol
// options, and the fields the sim does not implement, which it NACKs.
//
// Accepted on purpose although they do nothing in the sim, because they
// cannot change what a plain-text HTTP/1.1 client or the upstream sees:
// http2_protocol_options and http3_protocol_options (other codecs; the sim
// serves HTTP/1.1 only and NACKs codec_type HTTP2 and HTTP3),
// set_current_client_cert_details (mTLS only; transport_socket is NACKed),
// add_proxy_protocol_connection_state (PROXY protocol only; listener_filters
// are NACKed), append_local_overload (the sim is never overloaded),
// record_route_resolution_stats (a stat), and access_log,
// access_log_flush_interval, flush_access_log_on_new_request and
// access_log_options (the sim keeps no access log).
func compileRequestHandling(h *hcmv3.HttpConnectionManager, s *hcmSpec) error {
	common := h.GetCommonHttpProtocolOptions()
	if common.GetMaxResponseHeadersKb() != nil {
		// HttpConnectionManagerConfig's constructor refuses it.
		return errors.New("Error: max_response_headers_kb cannot be set on http_connection_manager.")
	}
	// Of the protocol options (common_http_protocol_options and the HTTP/1
	// codec's http_protocol_options) the sim implements
	// headers_with_underscores_action; every other one set changes what
	// Envoy does with a connection or a request (idle and duration limits,
	// request and header counts, header case, HTTP/1.0, trailers, ...).
	set := setFields("common_http_protocol_options", common, "headers_with_underscores_action")
	maps.Copy(set, setFields("http_protocol_options", h.GetHttpProtocolOptions()))
	maps.Copy(set, map[string]bool{
		"tracing":                                           h.GetTracing() != nil,
		"max_request_headers_kb":                            h.GetMaxRequestHeadersKb() != nil,
		"stream_flush_timeout":                              h.GetStreamFlushTimeout() != nil,
		"request_timeout":                                   h.GetRequestTimeout() != nil,
		"request_headers_timeout":                           h.GetRequestHeadersTimeout() != nil,
		"drain_timeout":                                     h.GetDrainTimeout() != nil,
		"drain_timeout_jitter":                              h.GetDrainTimeoutJitter() != nil,
		"delayed_close_timeout":                             h.GetDelayedCloseTimeout() != nil,
		"http1_safe_max_connection_duration":                h.GetHttp1SafeMaxConnectionDuration(),
		"early_header_mutation_extensions":                  len(h.GetEarlyHeaderMutationExtensions()) > 0,
		"always_set_request_id_in_response":                 h.GetAlwaysSetRequestIdInResponse(),
		"forward_client_cert_matcher":                       h.GetForwardClientCertMatcher() != nil,
		"proxy_100_continue":                                h.GetProxy_100Continue(),
		"represent_ipv4_remote_address_as_ipv4_mapped_ipv6": h.GetRepresentIpv4RemoteAddressAsIpv4MappedIpv6(),
		"stream_error_on_invalid_http_message":              h.GetStreamErrorOnInvalidHttpMessage() != nil,
		"path_normalization_options":                        h.GetPathNormalizationOptions() != nil,
		"proxy_status_config":                               h.GetProxyStatusConfig() != nil,
		"typed_header_validation_config":                    h.GetTypedHeaderValidationConfig() != nil,
		"append_x_forwarded_port":                           h.GetAppendXForwardedPort(),
		"forward_proto_config":                              h.GetForwardProtoConfig() != nil,
	})
	if err := unsupported("http_connection_manager", set); err != nil {
		return err
	}
	switch s.underscores = common.GetHeadersWithUnderscoresAction(); s.underscores {
	case corev3.HttpProtocolOptions_ALLOW, corev3.HttpProtocolOptions_REJECT_REQUEST, corev3.HttpProtocolOptions_DROP_HEADER:
	default:
		return fmt.Errorf("common_http_protocol_options.headers_with_underscores_action %d is not a known action", s.underscores)
	}
	var err error
	s.paths, err = compilePathPolicy(h)
	return err
}

// setFields names the fields set in m ("prefix.field"), except the given
// ones.
func setFields(prefix string, m proto.Message, except ...string) map[string]bool {
	out := map[string]bool{}
	if m == nil || !m.ProtoReflect().IsValid() {
		return out
	}
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if name := string(fd.Name()); !slices.Contains(except, name) {
			out[prefix+"."+name] = true
		}
		return true
	})
	return out
}
