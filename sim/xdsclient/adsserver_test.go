package xdsclient

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/keyconform/keyconform/internal/xdstest"
)

// adsServer is a go-control-plane ADS server (snapshot cache with ads=true,
// as the controller runs it) on a loopback port. Unlike xdstest.Server it
// takes gRPC server options (TLS credentials) and records every message of
// every stream as it crossed the wire, in both directions and both wire
// forms: go-control-plane's callbacks see requests only after it has filled
// in a missing node, which would hide what the client sent.
type adsServer struct {
	cache cachev3.SnapshotCache
	addr  string
	opts  []grpc.ServerOption

	mu       sync.Mutex
	grpc     *grpc.Server
	streams  int
	messages []wireMessage
	changed  chan struct{}
}

// wireRequest is a request of either wire form.
type wireRequest interface {
	proto.Message
	GetTypeUrl() string
	GetNode() *corev3.Node
	GetResponseNonce() string
	GetErrorDetail() *status.Status
}

func wireName(delta bool) string {
	if delta {
		return "delta"
	}
	return "sotw"
}

// wireMessage is one message of a stream.
type wireMessage struct {
	stream   int  // 1 for the first stream the server accepted
	response bool // sent by the server; else a request it received
	msg      proto.Message
}

func startADS(t *testing.T, opts ...grpc.ServerOption) *adsServer {
	t.Helper()
	s := &adsServer{
		cache:   cachev3.NewSnapshotCache(true, cachev3.IDHash{}, nil),
		opts:    opts,
		changed: make(chan struct{}),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.stop)
	return s
}

func (s *adsServer) serve(ln net.Listener) {
	g := grpc.NewServer(append(s.opts, grpc.StreamInterceptor(s.intercept))...)
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, serverv3.NewServer(context.Background(), s.cache, nil))
	s.mu.Lock()
	s.grpc = g
	s.mu.Unlock()
	go func() { _ = g.Serve(ln) }()
}

func (s *adsServer) intercept(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	s.mu.Lock()
	s.streams++
	id := s.streams
	s.mu.Unlock()
	return handler(srv, recordingStream{ServerStream: ss, server: s, id: id})
}

func (s *adsServer) record(m wireMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

type recordingStream struct {
	grpc.ServerStream
	server *adsServer
	id     int
}

func (r recordingStream) RecvMsg(m any) error {
	err := r.ServerStream.RecvMsg(m)
	if err == nil {
		r.server.record(wireMessage{stream: r.id, msg: proto.Clone(m.(proto.Message))})
	}
	return err
}

func (r recordingStream) SendMsg(m any) error {
	r.server.record(wireMessage{stream: r.id, response: true, msg: proto.Clone(m.(proto.Message))})
	return r.ServerStream.SendMsg(m)
}

// stop closes the listener and every stream, as a control plane that goes
// away does.
func (s *adsServer) stop() {
	s.mu.Lock()
	g := s.grpc
	s.grpc = nil
	s.mu.Unlock()
	if g != nil {
		g.Stop()
	}
}

// restart serves again on the same address with the same cache.
func (s *adsServer) restart(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	// The port was just released by stop; retry briefly in case the kernel
	// has not let go of it yet.
	for range 50 {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("re-listen on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

func (s *adsServer) set(t *testing.T, version string, resources ...types.Resource) {
	t.Helper()
	if err := s.cache.SetSnapshot(context.Background(), node, xdstest.Snapshot(t, version, resources...)); err != nil {
		t.Fatal(err)
	}
}

// recorded returns the messages of type M so far, in order.
func recorded[M proto.Message](s *adsServer, response bool) []M {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []M
	for _, w := range s.messages {
		if m, ok := w.msg.(M); ok && w.response == response {
			out = append(out, m)
		}
	}
	return out
}

// waitMessage waits until a message of type M, a response or a request,
// satisfies match and returns it.
func waitMessage[M proto.Message](t *testing.T, s *adsServer, what string, response bool, match func(stream int, m M) bool) M {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for seen := 0; ; {
		s.mu.Lock()
		msgs, changed := s.messages[seen:], s.changed
		seen = len(s.messages)
		s.mu.Unlock()
		for _, w := range msgs {
			if m, ok := w.msg.(M); ok && w.response == response && match(w.stream, m) {
				return m
			}
		}
		select {
		case <-changed:
		case <-deadline:
			var zero M
			t.Fatalf("no %s within 10s", what)
			return zero
		}
	}
}

// waitDeltaRequest waits for a delta request of typeURL that satisfies match.
func (s *adsServer) waitDeltaRequest(t *testing.T, typeURL, what string, match func(stream int, r *discoveryv3.DeltaDiscoveryRequest) bool) *discoveryv3.DeltaDiscoveryRequest {
	t.Helper()
	return waitMessage(t, s, what, false, func(stream int, r *discoveryv3.DeltaDiscoveryRequest) bool {
		return r.GetTypeUrl() == typeURL && match(stream, r)
	})
}
