package xdsclient

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/internal/xdstest"
)

const node = "kgateway-system/http"

// recorder is a Handler that keeps what it accepted and rejects listeners
// whose name starts with "bad".
type recorder struct {
	client *Client

	mu       sync.Mutex
	accepted map[string]map[string]bool // type -> names
	versions map[string]string
	changed  chan struct{}
}

func newRecorder() *recorder {
	return &recorder{accepted: map[string]map[string]bool{}, versions: map[string]string{}, changed: make(chan struct{})}
}

func (r *recorder) Apply(typeURL, version string, res []*anypb.Any) error {
	names := map[string]bool{}
	var routes []string
	for _, a := range res {
		m, err := a.UnmarshalNew()
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *listenerv3.Listener:
			if strings.HasPrefix(m.GetName(), "bad") {
				return fmt.Errorf("listener %q: invalid", m.GetName())
			}
			names[m.GetName()] = true
			routes = append(routes, m.GetName())
		case *routev3.RouteConfiguration:
			names[m.GetName()] = true
		}
	}
	if typeURL == resource.ListenerType {
		r.client.Subscribe(resource.RouteType, routes)
	}
	r.mu.Lock()
	r.accepted[typeURL] = names
	r.versions[typeURL] = version
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	return nil
}

func (r *recorder) waitVersion(t *testing.T, typeURL, version string) map[string]bool {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		if r.versions[typeURL] == version {
			defer r.mu.Unlock()
			return r.accepted[typeURL]
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("handler never accepted %s version %q", typeURL, version)
		}
	}
}

func startClient(t *testing.T, addr string) (*Client, *recorder) {
	t.Helper()
	rec := newRecorder()
	c, err := New(Options{ServerAddress: addr, NodeID: node, Handler: rec, InitialBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec.client = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return c, rec
}

func TestNewRejectsNonLoopbackServer(t *testing.T) {
	tests := []struct{ addr, wantErr string }{
		{"10.0.0.1:18000", "not loopback"},
		{"example.com:18000", "not loopback"},
		{"0.0.0.0:18000", "not loopback"},
		{"127.0.0.1", "want a loopback host:port"},
		{"127.0.0.1:0", "no port"},
	}
	for _, tt := range tests {
		_, err := New(Options{ServerAddress: tt.addr, NodeID: node, Handler: newRecorder()})
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("New(%q) error = %v, want %q", tt.addr, err, tt.wantErr)
		}
	}
	for _, ok := range []string{"127.0.0.1:18000", "localhost:18000", "[::1]:18000"} {
		if _, err := New(Options{ServerAddress: ok, NodeID: node, Handler: newRecorder()}); err != nil {
			t.Errorf("New(%q): %v", ok, err)
		}
	}
	if _, err := New(Options{ServerAddress: "127.0.0.1:1", Handler: newRecorder()}); err == nil {
		t.Error("New without a node id succeeded")
	}
}

func TestACKSubscribeNACKAndRecover(t *testing.T) {
	srv := xdstest.Start(t)
	srv.Set(t, node, "v1", xdstest.Listener(t, 8080), xdstest.RouteConfig(8080))
	_, rec := startClient(t, srv.Addr())

	if got := rec.waitVersion(t, resource.ListenerType, "v1"); !got["listener~8080"] {
		t.Fatalf("accepted listeners %v", got)
	}
	srv.WaitACK(t, resource.ListenerType, "v1")
	// The listener's route configuration was subscribed by name and ACKed.
	if got := rec.waitVersion(t, resource.RouteType, "v1"); !got["listener~8080"] {
		t.Fatalf("accepted routes %v", got)
	}
	srv.WaitACK(t, resource.RouteType, "v1")
	rds := srv.WaitRequest(t, 5*time.Second, "RDS subscription", func(r *discoveryRequest) bool {
		return r.GetTypeUrl() == resource.RouteType && len(r.GetResourceNames()) == 1 && r.GetResourceNames()[0] == "listener~8080"
	})
	if rds == nil {
		t.Fatal("no RDS request named the listener's route configuration")
	}

	// v2 holds an invalid listener: NACK with an error detail, version_info
	// still v1, and the handler keeps v1.
	srv.Set(t, node, "v2", xdstest.Listener(t, 8080), badListener(t))
	nack := srv.WaitNACK(t, resource.ListenerType)
	if nack.GetVersionInfo() != "v1" || !strings.Contains(nack.GetErrorDetail().GetMessage(), `listener "bad~1": invalid`) {
		t.Fatalf("NACK version %q detail %q", nack.GetVersionInfo(), nack.GetErrorDetail().GetMessage())
	}
	if nack.GetErrorDetail().GetCode() != 13 {
		t.Fatalf("NACK code %d, want 13 (INTERNAL, as Envoy)", nack.GetErrorDetail().GetCode())
	}
	rec.mu.Lock()
	if rec.versions[resource.ListenerType] != "v1" {
		t.Fatalf("handler moved to %q after a rejected update", rec.versions[resource.ListenerType])
	}
	rec.mu.Unlock()

	// A fixed snapshot applies (within the repeat-NACK pacing).
	srv.Set(t, node, "v3", xdstest.Listener(t, 8080), xdstest.Listener(t, 9090), xdstest.RouteConfig(8080), xdstest.RouteConfig(9090))
	if got := rec.waitVersion(t, resource.ListenerType, "v3"); !got["listener~9090"] {
		t.Fatalf("accepted listeners %v", got)
	}
	if got := rec.waitVersion(t, resource.RouteType, "v3"); !got["listener~9090"] || !got["listener~8080"] {
		t.Fatalf("accepted routes %v", got)
	}
}

func TestReconnectKeepsVersionsAndAppliesNewConfig(t *testing.T) {
	srv := xdstest.Start(t)
	srv.Set(t, node, "v1", xdstest.Listener(t, 8080), xdstest.RouteConfig(8080))
	c, rec := startClient(t, srv.Addr())
	rec.waitVersion(t, resource.ListenerType, "v1")
	waitFor(t, "connected", c.Connected)

	srv.Stop()
	waitFor(t, "disconnected", func() bool { return !c.Connected() })

	srv.Restart(t)
	srv.Set(t, node, "v2", xdstest.Listener(t, 8081), xdstest.RouteConfig(8081))
	waitFor(t, "reconnected", c.Connected)
	if got := rec.waitVersion(t, resource.ListenerType, "v2"); !got["listener~8081"] || got["listener~8080"] {
		t.Fatalf("accepted listeners after reconnect %v", got)
	}
	// The first request on the new stream carried the last accepted version.
	srv.WaitRequest(t, 5*time.Second, "resumed LDS request", func(r *discoveryRequest) bool {
		return r.GetTypeUrl() == resource.ListenerType && r.GetVersionInfo() == "v1" && r.GetResponseNonce() == ""
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func badListener(t *testing.T) *listenerv3.Listener {
	l := xdstest.Listener(t, 8081)
	l.Name = "bad~1"
	return l
}
