package dataplane

import (
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
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
		{"listener filters", func(l *listenerv3.Listener) {
			l.ListenerFilters = []*listenerv3.ListenerFilter{{Name: "envoy.filters.listener.tls_inspector"}}
		}, "listener_filters (listener filters"},
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
