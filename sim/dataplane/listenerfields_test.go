package dataplane

import (
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	proxyprotocolv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/proxy_protocol/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/keyconform/keyconform/internal/xdstest"
)

// Listener-level fields: those Envoy Gateway sets that change no request
// are accepted; others are rejected by name; one the table does not know is
// rejected too.
func TestListenerFields(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*listenerv3.Listener)
		want   string // "" accepted
	}{
		{"Envoy Gateway's buffer and accept limits", func(l *listenerv3.Listener) {
			l.PerConnectionBufferLimitBytes = wrapperspb.UInt32(32768)
			l.MaxConnectionsToAcceptPerSocketEvent = wrapperspb.UInt32(1)
		}, ""},
		{"socket options", func(l *listenerv3.Listener) {
			l.SocketOptions = []*corev3.SocketOption{{Level: 1, Name: 9, Value: &corev3.SocketOption_IntValue{IntValue: 1}}}
		}, "listener sets socket_options (socket options)"},
		{"the TLS inspector", func(l *listenerv3.Listener) {
			l.ListenerFilters = []*listenerv3.ListenerFilter{{Name: "envoy.filters.listener.tls_inspector",
				ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: xdstest.Any(t, &tlsinspectorv3.TlsInspector{})}}}
		}, ""},
		{"a TLS inspector limit the sim does not have", func(l *listenerv3.Listener) {
			l.ListenerFilters = []*listenerv3.ListenerFilter{{Name: "envoy.filters.listener.tls_inspector",
				ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: xdstest.Any(t, &tlsinspectorv3.TlsInspector{MaxClientHelloSize: wrapperspb.UInt32(4096)})}}}
		}, "listener_filters[0] sets max_client_hello_size (a ClientHello size limit)"},
		{"another listener filter", func(l *listenerv3.Listener) {
			l.ListenerFilters = []*listenerv3.ListenerFilter{{Name: "envoy.filters.listener.proxy_protocol",
				ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: xdstest.Any(t, &proxyprotocolv3.ProxyProtocol{})}}}
		}, "proxy_protocol.v3.ProxyProtocol is not implemented by the sim (only the TLS inspector)"},
		{"a field the table does not list", func(l *listenerv3.Listener) {
			l.StatPrefix = "x"
			l.ListenerSpecifier = &listenerv3.Listener_InternalListener{InternalListener: &listenerv3.Listener_InternalListenerConfig{}}
		}, "internal_listener"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := xdstest.Listener(t, 8080)
			tc.mutate(l)
			_, err := compileListener(l)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
