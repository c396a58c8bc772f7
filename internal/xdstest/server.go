// Package xdstest is xDS test support shared by the controller and the sim:
// it builds resources that follow the translator's conventions (see the
// project brief), and runs a real go-control-plane ADS server (snapshot
// cache + server/v3) on a loopback port for the sim's tests. The builders
// encode the conventions independently of controller/translate, so a test
// built on them also checks the translator against the contract.
package xdstest

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
)

// Server is a go-control-plane ADS server on 127.0.0.1, state of the world
// and incremental.
type Server struct {
	Cache cachev3.SnapshotCache

	addr string
	tls  *tls.Config

	mu       sync.Mutex
	grpc     *grpc.Server
	requests []*discoveryv3.DiscoveryRequest
	changed  chan struct{}
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
	cb := serverv3.CallbackFuncs{
		StreamRequestFunc: func(_ int64, req *discoveryv3.DiscoveryRequest) error {
			s.mu.Lock()
			s.requests = append(s.requests, proto.Clone(req).(*discoveryv3.DiscoveryRequest))
			close(s.changed)
			s.changed = make(chan struct{})
			s.mu.Unlock()
			return nil
		},
	}
	xds := serverv3.NewServer(context.Background(), s.Cache, cb)
	var gopts []grpc.ServerOption
	if s.tls != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(s.tls)))
	}
	g := grpc.NewServer(gopts...)
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, xds)
	s.mu.Lock()
	s.grpc = g
	s.mu.Unlock()
	go func() { _ = g.Serve(ln) }()
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

// Restart serves again on the same address with the same cache.
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

// Requests returns every DiscoveryRequest received so far.
func (s *Server) Requests() []*discoveryv3.DiscoveryRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*discoveryv3.DiscoveryRequest(nil), s.requests...)
}

// WaitRequest waits until a received request satisfies match and returns it.
func (s *Server) WaitRequest(t testing.TB, timeout time.Duration, what string, match func(*discoveryv3.DiscoveryRequest) bool) *discoveryv3.DiscoveryRequest {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		for _, r := range s.requests {
			if match(r) {
				s.mu.Unlock()
				return r
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no %s request within %s", what, timeout)
			return nil
		}
	}
}

// WaitACK waits for an ACK of version for typeURL.
func (s *Server) WaitACK(t testing.TB, typeURL, version string) {
	t.Helper()
	s.WaitRequest(t, 10*time.Second, "ACK of "+typeURL+" "+version, func(r *discoveryv3.DiscoveryRequest) bool {
		return r.GetTypeUrl() == typeURL && r.GetVersionInfo() == version && r.GetErrorDetail() == nil && r.GetResponseNonce() != ""
	})
}

// WaitNACK waits for a NACK of typeURL and returns it.
func (s *Server) WaitNACK(t testing.TB, typeURL string) *discoveryv3.DiscoveryRequest {
	t.Helper()
	return s.WaitRequest(t, 10*time.Second, "NACK of "+typeURL, func(r *discoveryv3.DiscoveryRequest) bool {
		return r.GetTypeUrl() == typeURL && r.GetErrorDetail() != nil
	})
}
