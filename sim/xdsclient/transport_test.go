package xdsclient

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/keyconform/keyconform/internal/testpki"
	"github.com/keyconform/keyconform/internal/xdstest"
)

// serviceAddress is the control plane's name in the simulated cluster,
// which only the test's dialer resolves.
const (
	serviceAddress = "xds.example.svc:18000"
	serviceHost    = "xds.example.svc"
)

// clientConfig trusts ca for the control plane's certificate.
func clientConfig(ca *testpki.CA) *tls.Config {
	return &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS13}
}

// recordingDialer connects every address it is given to target and
// records the addresses.
type recordingDialer struct {
	target string

	mu     sync.Mutex
	dialed []string
}

func (d *recordingDialer) dial(ctx context.Context, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.dialed = append(d.dialed, addr)
	d.mu.Unlock()
	var nd net.Dialer
	return nd.DialContext(ctx, "tcp", d.target)
}

func (d *recordingDialer) addresses() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dialed...)
}

func TestTransport(t *testing.T) {
	serverCA, otherCA := testpki.NewCA(t, "keyconform test CA"), testpki.NewCA(t, "another CA")
	tests := []struct {
		name      string
		serverTLS bool
		dial      bool        // through the dialer, to serviceAddress
		tls       *tls.Config // the client's
		wantUp    bool
	}{
		{name: "dialer, plaintext", dial: true, wantUp: true},
		{name: "dialer, TLS", serverTLS: true, dial: true, tls: clientConfig(serverCA), wantUp: true},
		{name: "loopback, TLS", serverTLS: true, tls: clientConfig(serverCA), wantUp: true},
		{name: "dialer, TLS with another CA", serverTLS: true, dial: true, tls: clientConfig(otherCA)},
	}
	for _, tt := range tests {
		for _, delta := range []bool{false, true} {
			t.Run(tt.name+"/"+wireName(delta), func(t *testing.T) {
				var serverOpts xdstest.Options
				if tt.serverTLS {
					serverOpts.TLS = &tls.Config{Certificates: []tls.Certificate{serverCA.ServerCert(t, serviceHost, "127.0.0.1")}}
				}
				srv := xdstest.StartWith(t, serverOpts)
				srv.Set(t, node, "v1", xdstest.Listener(t, 8080), xdstest.RouteConfig(8080))
				opts := Options{ServerAddress: srv.Addr(), TLS: tt.tls, Delta: delta}
				dialer := &recordingDialer{target: srv.Addr()}
				if tt.dial {
					opts.ServerAddress, opts.Dial = serviceAddress, dialer.dial
				}
				c, rec := startClient(t, opts)

				if tt.wantUp {
					rec.waitState(t, resource.ListenerType, "v1", "listener~8080")
					for _, addr := range dialer.addresses() {
						if addr != serviceAddress {
							t.Errorf("dialled %q, want %q", addr, serviceAddress)
						}
					}
					if tt.dial && len(dialer.addresses()) == 0 {
						t.Error("the dialer was never used")
					}
					return
				}
				// Once gRPC has dialled again after a failed handshake, the
				// server must still have seen nothing.
				waitFor(t, "a second dial", func() bool { return len(dialer.addresses()) >= 2 })
				if c.Connected() {
					t.Error("connected through a certificate signed by an untrusted CA")
				}
				if got := xdstest.Recorded[xdstest.Request](srv); len(got) > 0 {
					t.Errorf("server received %d requests over an untrusted connection", len(got))
				}
			})
		}
	}
}

func wireName(delta bool) string {
	if delta {
		return "delta"
	}
	return "sotw"
}

func TestNodeSent(t *testing.T) {
	meta, err := structpb.NewStruct(map[string]any{"gateway": "kgateway-system/http"})
	if err != nil {
		t.Fatal(err)
	}
	given := &corev3.Node{Id: node, Cluster: "kgateway-system", Locality: &corev3.Locality{Zone: "zone-a"}, Metadata: meta}
	want := proto.Clone(given).(*corev3.Node)
	want.UserAgentName = "keyconform-sim"

	for _, tt := range []struct {
		firstOnly bool
		delta     bool
	}{{false, false}, {true, false}, {false, true}, {true, true}} {
		name := wireName(tt.delta) + "/every request"
		if tt.firstOnly {
			name = wireName(tt.delta) + "/first message only"
		}
		t.Run(name, func(t *testing.T) {
			srv := xdstest.Start(t)
			srv.Set(t, node, "v1", xdstest.Listener(t, 8080), xdstest.RouteConfig(8080))
			c, rec := startClient(t, Options{ServerAddress: srv.Addr(), Node: proto.Clone(given).(*corev3.Node), NodeOnFirstMessageOnly: tt.firstOnly, Delta: tt.delta})
			rec.waitVersion(t, resource.RouteType, "v1")
			srv.Stop()
			waitFor(t, "disconnected", func() bool { return !c.Connected() })
			srv.Restart(t)
			xdstest.WaitMessage(t, srv, "an ACK on the second stream", func(stream int, r xdstest.Request) bool {
				return stream > 1 && r.GetResponseNonce() != ""
			})

			first := map[int]bool{}
			for _, m := range srv.Messages() {
				r, ok := m.Msg.(xdstest.Request)
				if !ok {
					continue
				}
				wantNode := want
				if tt.firstOnly && first[m.Stream] {
					wantNode = nil
				}
				first[m.Stream] = true
				if !proto.Equal(r.GetNode(), wantNode) {
					t.Errorf("stream %d %s request: node %v, want %v", m.Stream, r.GetTypeUrl(), r.GetNode(), wantNode)
				}
			}
			if len(first) < 2 {
				t.Errorf("requests on %d streams, want 2", len(first))
			}
		})
	}
}

func TestNewValidatesNodeAndAddress(t *testing.T) {
	dial := (&recordingDialer{}).dial
	tests := []struct {
		name    string
		opts    Options
		wantErr string // "" when New must succeed
	}{
		{"node id only", Options{ServerAddress: "127.0.0.1:18000", NodeID: node}, ""},
		{"full node", Options{ServerAddress: "127.0.0.1:18000", Node: &corev3.Node{Id: node}}, ""},
		{"no node", Options{ServerAddress: "127.0.0.1:18000"}, "xds node id is empty"},
		{"node without id", Options{ServerAddress: "127.0.0.1:18000", Node: &corev3.Node{Cluster: "c"}}, "xds node id is empty"},
		{"node and node id", Options{ServerAddress: "127.0.0.1:18000", Node: &corev3.Node{Id: node}, NodeID: node}, "xds node given twice"},
		{"node and node cluster", Options{ServerAddress: "127.0.0.1:18000", Node: &corev3.Node{Id: node}, NodeCluster: "c"}, "xds node given twice"},
		{"service name with a dialer", Options{ServerAddress: serviceAddress, NodeID: node, Dial: dial}, ""},
		{"service name without a dialer", Options{ServerAddress: serviceAddress, NodeID: node}, "not loopback"},
		{"dialer, no port", Options{ServerAddress: "xds.example.svc", NodeID: node, Dial: dial}, "want a host:port"},
		{"dialer, port 0", Options{ServerAddress: "xds.example.svc:0", NodeID: node, Dial: dial}, "has no port"},
		{"dialer, no host", Options{ServerAddress: ":18000", NodeID: node, Dial: dial}, "has no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Handler = newRecorder()
			_, err := New(tt.opts)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("New: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("New error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewCopiesTheNode(t *testing.T) {
	given := &corev3.Node{Id: node, UserAgentName: "envoy"}
	c, err := New(Options{ServerAddress: "127.0.0.1:18000", Node: given, Handler: newRecorder()})
	if err != nil {
		t.Fatal(err)
	}
	given.Id = "changed"
	if c.node.GetId() != node || c.node.GetUserAgentName() != "envoy" {
		t.Fatalf("node %v: want the given node as it was, its user agent kept", c.node)
	}
}
