package podnet

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
)

// serveName accepts on ln and writes name to every connection.
func serveName(ln net.Listener, name string) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, name)
			_ = c.Close()
		}
	}()
}

func read(t *testing.T, dial func(context.Context, string, string) (net.Conn, error), addr string) (string, error) {
	t.Helper()
	c, err := dial(context.Background(), "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	return string(b), err
}

// A pod's sockets: bound to its IP or the wildcard address they are
// reachable from everywhere at podIP:port; bound to 127.0.0.1 only from
// inside the pod; closing frees the port; two pods have two loopbacks.
func TestPodSockets(t *testing.T) {
	n := New()
	a := n.Pod(netip.MustParseAddr("10.244.0.7"), "edge")
	b := n.Pod(netip.MustParseAddr("10.244.0.8"), "edge")

	public, err := a.Listen(netip.IPv4Unspecified(), 8080)
	if err != nil {
		t.Fatal(err)
	}
	serveName(public, "a:8080")
	admin, err := a.Listen(netip.MustParseAddr("127.0.0.1"), 19000)
	if err != nil {
		t.Fatal(err)
	}
	serveName(admin, "a:admin")
	if _, err := a.Listen(netip.MustParseAddr("10.244.0.7"), 8080); err == nil {
		t.Error("a second socket on port 8080 of the same pod was allowed")
	}
	if _, err := a.Listen(netip.MustParseAddr("10.244.0.9"), 80); err == nil {
		t.Error("a pod bound another pod's address")
	}

	for _, tc := range []struct {
		name string
		dial func(context.Context, string, string) (net.Conn, error)
		addr string
		want string // "" means refused
	}{
		{"from the network to the public socket", n.DialContext, "10.244.0.7:8080", "a:8080"},
		{"from the network to the loopback-only socket", n.DialContext, "10.244.0.7:19000", ""},
		{"from inside to its own loopback", a.DialContext, "127.0.0.1:19000", "a:admin"},
		{"from inside by localhost", a.DialContext, "localhost:19000", "a:admin"},
		{"from inside to its own IP", a.DialContext, "10.244.0.7:8080", "a:8080"},
		{"from another pod to the first's loopback port", b.DialContext, "127.0.0.1:19000", ""},
		{"from another pod to the public socket", b.DialContext, "10.244.0.7:8080", "a:8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := read(t, tc.dial, tc.addr)
			var refused *RefusedError
			switch {
			case tc.want == "" && !errors.As(err, &refused):
				t.Fatalf("got %q, %v; want refused", got, err)
			case tc.want != "" && (err != nil || got != tc.want):
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}

	if err := public.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := n.Lookup("10.244.0.7:8080"); ok {
		t.Error("a closed socket is still reachable on the network")
	}
	if _, err := a.Listen(netip.IPv4Unspecified(), 8080); err != nil {
		t.Errorf("port not freed by Close: %v", err)
	}
}

// Cluster DNS and Services: a name resolves to a Service IP, which reaches
// its endpoints in turn; short names resolve through the pod's search path;
// names and Service IPs the tables do not hold are refused, never dialled.
func TestHostsAndServices(t *testing.T) {
	n := New()
	backends := map[string]string{}
	for _, ep := range []string{"10.244.0.20:8080", "10.244.0.21:8080"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		serveName(ln, ep)
		if err := n.Add(ep, ln.Addr().String()); err != nil {
			t.Fatal(err)
		}
		backends[ep] = ln.Addr().String()
	}
	vip := netip.MustParseAddr("10.96.0.10")
	n.SetHosts(map[string]netip.Addr{"web.edge.svc.cluster.local": vip, "web.edge.svc": vip})
	n.SetServices(map[netip.AddrPort][]netip.AddrPort{
		netip.AddrPortFrom(vip, 80): {netip.MustParseAddrPort("10.244.0.20:8080"), netip.MustParseAddrPort("10.244.0.21:8080")},
	})

	seen := map[string]int{}
	for _, addr := range []string{"web.edge.svc.cluster.local:80", "WEB.edge.svc.cluster.local.:80", "10.96.0.10:80", "web.edge.svc:80"} {
		got, err := read(t, n.DialContext, addr)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		seen[got]++
	}
	if len(seen) != 2 {
		t.Errorf("connections to the Service reached %v, want both endpoints in turn", seen)
	}

	pod := n.Pod(netip.MustParseAddr("10.244.0.30"), "edge")
	if got, err := read(t, pod.DialContext, "web:80"); err != nil || got == "" {
		t.Errorf("short name from a pod of the Service's namespace: %q, %v", got, err)
	}
	other := n.Pod(netip.MustParseAddr("10.244.0.31"), "elsewhere")
	for _, tc := range []struct {
		dial func(context.Context, string, string) (net.Conn, error)
		addr string
	}{
		{other.DialContext, "web:80"},                    // not in that pod's namespace
		{n.DialContext, "web.edge.svc.cluster.local:81"}, // no such Service port
		{n.DialContext, "db.edge.svc.cluster.local:80"},  // no such Service
		{n.DialContext, "example.com:80"},
	} {
		_, err := read(t, tc.dial, tc.addr)
		var refused *RefusedError
		if !errors.As(err, &refused) {
			t.Errorf("%s: %v, want refused", tc.addr, err)
		}
	}

	n.SetServices(nil)
	if _, err := read(t, n.DialContext, "10.96.0.10:80"); err == nil {
		t.Error("a Service removed from the table still reaches its endpoints")
	}
}
