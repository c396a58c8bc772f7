// Package xdstest is xDS test support shared by the controller and the sim:
// it builds resources that follow the translator's conventions (see the
// project brief), and runs a real go-control-plane ADS server (snapshot
// cache + server/v3) on a loopback port for the sim's tests. The builders
// encode the conventions independently of controller/translate, so a test
// built on them also checks the translator against the contract. The server
// records every message of every stream as it crossed the wire, so a test
// can check what a client sent and what it was sent.
package xdstest

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
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
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
)

// Server is a go-control-plane ADS server on 127.0.0.1 (snapshot cache
// with ads=true, as the controller runs it), state of the world and
// incremental. It records every message of every stream exactly as it
// crossed the wire, in both directions and both wire forms: requests before
// go-control-plane fills in a node the client left out, responses as the
// client receives them.
type Server struct {
	Cache cachev3.SnapshotCache

	addr string
	tls  *tls.Config

	mu       sync.Mutex
	grpc     *grpc.Server
	streams  int
	messages []Message
	changed  chan struct{} // closed and replaced on every recorded message
}

// Message is one message of an ADS stream, as it crossed the wire.
type Message struct {
	// Stream is the stream it travelled on, numbered from 1 in the order the
	// server accepted them; the count goes on across Restart.
	Stream int
	// Msg is a copy of the message: a *discoveryv3.DiscoveryRequest or
	// *discoveryv3.DeltaDiscoveryRequest the server received, or a
	// *discoveryv3.DiscoveryResponse or *discoveryv3.DeltaDiscoveryResponse
	// it sent.
	Msg proto.Message
}

// Request is a request of either wire form, *discoveryv3.DiscoveryRequest
// or *discoveryv3.DeltaDiscoveryRequest: Recorded[Request] and
// WaitMessage[Request] see both.
type Request interface {
	proto.Message
	GetTypeUrl() string
	GetNode() *corev3.Node
	GetResponseNonce() string
	GetErrorDetail() *status.Status
}

// Start listens on a free loopback port and serves ADS until the test ends;
// snapshots are per node id.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// Options configure StartWith.
type Options struct {
	// TLS, when set, serves over TLS with this configuration.
	TLS *tls.Config
	// Hash keys snapshots by node; node id when nil.
	Hash cachev3.NodeHash
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	hash := opts.Hash
	if hash == nil {
		hash = cachev3.IDHash{}
	}
	s := &Server{
		Cache:   cachev3.NewSnapshotCache(true, hash, nil),
		tls:     opts.TLS,
		changed: make(chan struct{}),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// Addr is the server's loopback address.
func (s *Server) Addr() string { return s.addr }

func (s *Server) serve(ln net.Listener) {
	// A stream interceptor rather than go-control-plane's callbacks: they see
	// a request only after the server has filled in its node.
	gopts := []grpc.ServerOption{grpc.StreamInterceptor(s.intercept)}
	if s.tls != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(s.tls)))
	}
	g := grpc.NewServer(gopts...)
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, serverv3.NewServer(context.Background(), s.Cache, nil))
	s.mu.Lock()
	s.grpc = g
	s.mu.Unlock()
	go func() { _ = g.Serve(ln) }()
}

func (s *Server) intercept(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	s.mu.Lock()
	s.streams++
	id := s.streams
	s.mu.Unlock()
	return handler(srv, recordingStream{ServerStream: ss, server: s, stream: id})
}

func (s *Server) record(stream int, m any) {
	msg := proto.Clone(m.(proto.Message))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, Message{Stream: stream, Msg: msg})
	close(s.changed)
	s.changed = make(chan struct{})
}

// recordingStream records what passes through a stream before the ADS
// server sees a request and before a response is sent.
type recordingStream struct {
	grpc.ServerStream
	server *Server
	stream int
}

func (r recordingStream) RecvMsg(m any) error {
	err := r.ServerStream.RecvMsg(m)
	if err == nil {
		r.server.record(r.stream, m)
	}
	return err
}

func (r recordingStream) SendMsg(m any) error {
	r.server.record(r.stream, m)
	return r.ServerStream.SendMsg(m)
}

// Stop closes the listener and every stream, as a control plane that goes
// away does.
func (s *Server) Stop() {
	s.mu.Lock()
	g := s.grpc
	s.grpc = nil
	s.mu.Unlock()
	if g != nil {
		g.Stop()
	}
}

// Restart serves again on the same address with the same cache; what was
// recorded stays.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	// The port was just released by Stop; retry briefly in case the kernel
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

// Set installs a snapshot of the given resources for node.
func (s *Server) Set(t testing.TB, node, version string, resources ...types.Resource) {
	t.Helper()
	snap := Snapshot(t, version, resources...)
	if err := s.Cache.SetSnapshot(context.Background(), node, snap); err != nil {
		t.Fatal(err)
	}
}

// Messages returns every message of every stream so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Recorded returns the messages of type M so far, in order: one of the four
// message types, or Request for the requests of both wire forms.
func Recorded[M proto.Message](s *Server) []M {
	var out []M
	for _, w := range s.Messages() {
		if m, ok := w.Msg.(M); ok {
			out = append(out, m)
		}
	}
	return out
}

// Requests returns every state-of-the-world request received so far.
func (s *Server) Requests() []*discoveryv3.DiscoveryRequest {
	return Recorded[*discoveryv3.DiscoveryRequest](s)
}

// WaitMessage waits up to 10s until a message of type M (as in Recorded),
// received or sent so far or later, satisfies match, and returns the first
// that does; stream is the message's Message.Stream. what names the
// message in the failure.
func WaitMessage[M proto.Message](t testing.TB, s *Server, what string, match func(stream int, m M) bool) M {
	t.Helper()
	return waitMessage(t, s, 10*time.Second, what, match)
}

func waitMessage[M proto.Message](t testing.TB, s *Server, timeout time.Duration, what string, match func(stream int, m M) bool) M {
	t.Helper()
	deadline := time.After(timeout)
	for seen := 0; ; {
		s.mu.Lock()
		msgs, changed := s.messages[seen:], s.changed
		seen = len(s.messages)
		s.mu.Unlock()
		for _, w := range msgs {
			if m, ok := w.Msg.(M); ok && match(w.Stream, m) {
				return m
			}
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %s within %s", what, timeout)
			var zero M
			return zero
		}
	}
}

// WaitRequest waits until a received state-of-the-world request satisfies
// match and returns it.
func (s *Server) WaitRequest(t testing.TB, timeout time.Duration, what string, match func(*discoveryv3.DiscoveryRequest) bool) *discoveryv3.DiscoveryRequest {
	t.Helper()
	return waitMessage(t, s, timeout, what+" request", func(_ int, r *discoveryv3.DiscoveryRequest) bool { return match(r) })
}

// WaitACK waits for a state-of-the-world ACK of version for typeURL.
func (s *Server) WaitACK(t testing.TB, typeURL, version string) {
	t.Helper()
	s.WaitRequest(t, 10*time.Second, "ACK of "+typeURL+" "+version, func(r *discoveryv3.DiscoveryRequest) bool {
		return r.GetTypeUrl() == typeURL && r.GetVersionInfo() == version && r.GetErrorDetail() == nil && r.GetResponseNonce() != ""
	})
}

// WaitNACK waits for a state-of-the-world NACK of typeURL and returns it.
func (s *Server) WaitNACK(t testing.TB, typeURL string) *discoveryv3.DiscoveryRequest {
	t.Helper()
	return s.WaitRequest(t, 10*time.Second, "NACK of "+typeURL, func(r *discoveryv3.DiscoveryRequest) bool {
		return r.GetTypeUrl() == typeURL && r.GetErrorDetail() != nil
	})
}
