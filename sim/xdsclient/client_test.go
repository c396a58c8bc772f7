package xdsclient

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/internal/xdstest"
)

const node = "kgateway-system/http"

// recorder is a Handler that keeps what it accepted and subscribes as
// Envoy does: to each listener's route configuration (named like the
// listener) and each EDS cluster's endpoints. It rejects what reject
// rejects, by default listeners whose name starts with "bad".
type recorder struct {
	client *Client
	reject func(m proto.Message) error

	mu       sync.Mutex
	accepted map[string]map[string]proto.Message // type -> name -> resource
	versions map[string]string
	changed  chan struct{}
}

func newRecorder() *recorder {
	return &recorder{
		reject:   rejectBadListeners,
		accepted: map[string]map[string]proto.Message{},
		versions: map[string]string{},
		changed:  make(chan struct{}),
	}
}

func rejectBadListeners(m proto.Message) error {
	if l, ok := m.(*listenerv3.Listener); ok && strings.HasPrefix(l.GetName(), "bad") {
		return fmt.Errorf("listener %q: invalid", l.GetName())
	}
	return nil
}

func (r *recorder) Apply(typeURL, version string, res []*anypb.Any) error {
	got := map[string]proto.Message{}
	var wanted []string
	for _, a := range res {
		m, err := a.UnmarshalNew()
		if err != nil {
			return err
		}
		if err := r.reject(m); err != nil {
			return err
		}
		name := cachev3.GetResourceName(m)
		got[name] = m
		switch m := m.(type) {
		case *listenerv3.Listener:
			wanted = append(wanted, name)
		case *clusterv3.Cluster:
			if m.GetType() == clusterv3.Cluster_EDS {
				wanted = append(wanted, cmp.Or(m.GetEdsClusterConfig().GetServiceName(), name))
			}
		}
	}
	switch typeURL {
	case resource.ListenerType:
		r.client.Subscribe(resource.RouteType, wanted)
	case resource.ClusterType:
		r.client.Subscribe(resource.EndpointType, wanted)
	}
	r.mu.Lock()
	r.accepted[typeURL] = got
	r.versions[typeURL] = version
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	return nil
}

// wait returns what the handler accepted of typeURL once cond holds for it.
func (r *recorder) wait(t *testing.T, typeURL, what string, cond func(version string, got map[string]proto.Message) bool) map[string]proto.Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		version, got, ch := r.versions[typeURL], r.accepted[typeURL], r.changed
		r.mu.Unlock()
		if cond(version, got) {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("handler never accepted %s %s (last: version %q, %v)", typeURL, what, version, slices.Sorted(maps.Keys(got)))
		}
	}
}

func (r *recorder) waitVersion(t *testing.T, typeURL, version string) map[string]proto.Message {
	t.Helper()
	return r.wait(t, typeURL, fmt.Sprintf("version %q", version), func(v string, _ map[string]proto.Message) bool { return v == version })
}

// waitState waits until the handler holds exactly names of typeURL at
// version: the whole set, as a state-of-the-world handler sees it.
func (r *recorder) waitState(t *testing.T, typeURL, version string, names ...string) map[string]proto.Message {
	t.Helper()
	return r.wait(t, typeURL, fmt.Sprintf("version %q with %v", version, names), func(v string, got map[string]proto.Message) bool {
		return v == version && slices.Equal(slices.Sorted(maps.Keys(got)), names)
	})
}

// startClient runs a client with opts, filling in the node id, a recorder
// as Handler unless opts has one, and short backoffs.
func startClient(t *testing.T, opts Options) (*Client, *recorder) {
	t.Helper()
	rec, ok := opts.Handler.(*recorder)
	if !ok {
		rec = newRecorder()
		opts.Handler = rec
	}
	if opts.Node == nil {
		opts.NodeID = node
	}
	opts.InitialBackoff, opts.MaxBackoff = 20*time.Millisecond, 100*time.Millisecond
	c, err := New(opts)
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
	_, rec := startClient(t, Options{ServerAddress: srv.Addr()})

	if got := rec.waitVersion(t, resource.ListenerType, "v1"); got["listener~8080"] == nil {
		t.Fatalf("accepted listeners %v", got)
	}
	srv.WaitACK(t, resource.ListenerType, "v1")
	// The listener's route configuration was subscribed by name and ACKed.
	if got := rec.waitVersion(t, resource.RouteType, "v1"); got["listener~8080"] == nil {
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
	if got := rec.waitVersion(t, resource.ListenerType, "v3"); got["listener~9090"] == nil {
		t.Fatalf("accepted listeners %v", got)
	}
	if got := rec.waitVersion(t, resource.RouteType, "v3"); got["listener~9090"] == nil || got["listener~8080"] == nil {
		t.Fatalf("accepted routes %v", got)
	}
}

func TestReconnectKeepsVersionsAndAppliesNewConfig(t *testing.T) {
	srv := xdstest.Start(t)
	srv.Set(t, node, "v1", xdstest.Listener(t, 8080), xdstest.RouteConfig(8080))
	c, rec := startClient(t, Options{ServerAddress: srv.Addr()})
	rec.waitVersion(t, resource.ListenerType, "v1")
	waitFor(t, "connected", c.Connected)

	srv.Stop()
	waitFor(t, "disconnected", func() bool { return !c.Connected() })

	srv.Restart(t)
	srv.Set(t, node, "v2", xdstest.Listener(t, 8081), xdstest.RouteConfig(8081))
	waitFor(t, "reconnected", c.Connected)
	if got := rec.waitVersion(t, resource.ListenerType, "v2"); got["listener~8081"] == nil || got["listener~8080"] != nil {
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
