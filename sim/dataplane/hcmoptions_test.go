package dataplane

import (
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// egHCM is the connection manager Envoy Gateway v1.9.1 puts on every HTTP
// listener (internal/xds/translator/testdata/out/xds-ir/http-route.listeners.yaml).
func egHCM(t *testing.T) *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{
		StatPrefix: "http-10080",
		CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{
			HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_REJECT_REQUEST,
		},
		Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
			InitialConnectionWindowSize: wrapperspb.UInt32(1048576),
			InitialStreamWindowSize:     wrapperspb.UInt32(65536),
			MaxConcurrentStreams:        wrapperspb.UInt32(100),
		},
		HttpFilters: []*hcmv3.HttpFilter{{
			Name:       "envoy.filters.http.router",
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{SuppressEnvoyHeaders: true})},
		}},
		MergeSlashes:                 true,
		NormalizePath:                wrapperspb.Bool(true),
		PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			RouteConfigName: "first-listener",
			ConfigSource: &corev3.ConfigSource{
				ResourceApiVersion:    corev3.ApiVersion_V3,
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			},
		}},
		ServerHeaderTransformation: hcmv3.HttpConnectionManager_PASS_THROUGH,
		UseRemoteAddress:           wrapperspb.Bool(true),
	}
}

func egListener(t *testing.T, h *hcmv3.HttpConnectionManager) *listenerv3.Listener {
	return &listenerv3.Listener{
		Name: "first-listener",
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "::", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 10080},
		}}},
		DefaultFilterChain: &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{
			Name:       "envoy.filters.network.http_connection_manager",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, h)},
		}}},
	}
}

func TestEnvoyGatewayListenerCompiles(t *testing.T) {
	l, err := compileListener(egListener(t, egHCM(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := pathPolicy{normalize: true, mergeSlashes: true, escapedSlashes: hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT}
	if l.chains[0].hcm.paths != want || l.chains[0].hcm.underscores != corev3.HttpProtocolOptions_REJECT_REQUEST {
		t.Errorf("paths %+v, underscores %v", l.chains[0].hcm.paths, l.chains[0].hcm.underscores)
	}
}

// Every other field Envoy Gateway sets on some HTTP listener (its
// ClientTrafficPolicy and EnvoyProxy features) is refused by name.
func TestConnectionManagerFieldsNACKed(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*hcmv3.HttpConnectionManager)
		want   string
	}{
		{"idle timeout", func(h *hcmv3.HttpConnectionManager) {
			h.CommonHttpProtocolOptions.IdleTimeout = durationpb.New(10e9)
		}, "common_http_protocol_options.idle_timeout"},
		{"connection limits", func(h *hcmv3.HttpConnectionManager) {
			h.CommonHttpProtocolOptions.MaxConnectionDuration = durationpb.New(300e9)
			h.CommonHttpProtocolOptions.MaxRequestsPerConnection = wrapperspb.UInt32(100)
			h.CommonHttpProtocolOptions.MaxStreamDuration = durationpb.New(200e9)
		}, "common_http_protocol_options.max_connection_duration, common_http_protocol_options.max_requests_per_connection, common_http_protocol_options.max_stream_duration"},
		{"HTTP/1 safe connection duration", func(h *hcmv3.HttpConnectionManager) {
			h.Http1SafeMaxConnectionDuration = true
		}, "http1_safe_max_connection_duration (HTTP/1 connection draining)"},
		{"max headers", func(h *hcmv3.HttpConnectionManager) {
			h.CommonHttpProtocolOptions.MaxHeadersCount = wrapperspb.UInt32(50)
		}, "common_http_protocol_options.max_headers_count"},
		{"max request headers size", func(h *hcmv3.HttpConnectionManager) {
			h.MaxRequestHeadersKb = wrapperspb.UInt32(80)
		}, "max_request_headers_kb (a request header size limit)"},
		{"max response headers", func(h *hcmv3.HttpConnectionManager) {
			h.CommonHttpProtocolOptions.MaxResponseHeadersKb = wrapperspb.UInt32(80)
		}, "Error: max_response_headers_kb cannot be set on http_connection_manager."},
		{"HTTP/1 options", func(h *hcmv3.HttpConnectionManager) {
			h.HttpProtocolOptions = &corev3.Http1ProtocolOptions{
				AcceptHttp_10: true, DefaultHostForHttp_10: "foo.com", EnableTrailers: true,
				HeaderKeyFormat: &corev3.Http1ProtocolOptions_HeaderKeyFormat{HeaderFormat: &corev3.Http1ProtocolOptions_HeaderKeyFormat_ProperCaseWords_{
					ProperCaseWords: &corev3.Http1ProtocolOptions_HeaderKeyFormat_ProperCaseWords{},
				}},
			}
		}, "http_protocol_options.accept_http_10, http_protocol_options.default_host_for_http_10, http_protocol_options.enable_trailers, http_protocol_options.header_key_format"},
		{"timeouts", func(h *hcmv3.HttpConnectionManager) {
			h.RequestTimeout = durationpb.New(5e9)
			h.RequestHeadersTimeout = durationpb.New(15e9)
		}, "request_headers_timeout (the request headers timeout), request_timeout (the request timeout)"},
		{"tracing", func(h *hcmv3.HttpConnectionManager) {
			h.Tracing = &hcmv3.HttpConnectionManager_Tracing{}
		}, "sets tracing"},
		{"early header mutation", func(h *hcmv3.HttpConnectionManager) {
			h.EarlyHeaderMutationExtensions = []*corev3.TypedExtensionConfig{{Name: "x", TypedConfig: mustAny(t, &routerv3.Router{})}}
		}, "early_header_mutation_extensions"},
		{"unknown escaped slashes action", func(h *hcmv3.HttpConnectionManager) {
			h.PathWithEscapedSlashesAction = 7
		}, "path_with_escaped_slashes_action 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := egHCM(t)
			tt.mutate(h)
			_, err := compileListener(egListener(t, h))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
