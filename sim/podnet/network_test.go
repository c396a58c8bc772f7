package podnet

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAddRejectsNonLoopbackAndBadInput(t *testing.T) {
	tests := []struct {
		name, virtual, local, wantErr string
	}{
		{"ok v4", "10.244.0.10:8000", "127.0.0.1:38000", ""},
		{"ok v6 loopback", "10.244.0.10:8000", "[::1]:38000", ""},
		{"non-loopback local", "10.244.0.10:8000", "10.0.0.5:80", "is not loopback"},
		{"unspecified local", "10.244.0.10:8000", "0.0.0.0:80", "is not loopback"},
		{"port zero", "10.244.0.10:8000", "127.0.0.1:0", "port 0"},
		{"hostname local", "10.244.0.10:8000", "localhost:80", "want IP:port"},
		{"no port virtual", "10.244.0.10", "127.0.0.1:80", "want IP:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New().Add(tt.virtual, tt.local)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Add: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Add error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestLookupAddRemove(t *testing.T) {
	n := New()
	if err := n.Add("10.244.0.10:8000", "127.0.0.1:38000"); err != nil {
		t.Fatal(err)
	}
	if got, ok := n.Lookup("10.244.0.10:8000"); !ok || got != "127.0.0.1:38000" {
		t.Fatalf("Lookup = %q, %v", got, ok)
	}
	if _, ok := n.Lookup("10.244.0.10:8001"); ok {
		t.Fatal("Lookup of another port found a mapping")
	}
	n.Remove("10.244.0.10:8000")
	if _, ok := n.Lookup("10.244.0.10:8000"); ok {
		t.Fatal("Lookup after Remove found a mapping")
	}
}

// recordingDial wraps the real dialer and records every address it is asked
// to connect to, to prove which addresses reach the network at all.
type recordingDial struct {
	mu    sync.Mutex
	addrs []string
	real  func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (r *recordingDial) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	r.mu.Lock()
	r.addrs = append(r.addrs, addr)
	r.mu.Unlock()
	return r.real(ctx, network, addr)
}

func TestDialContextNeverDialsUnmappedAddresses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "hello")
			_ = c.Close()
		}
	}()

	n := New()
	rec := &recordingDial{real: n.dial}
	n.dial = rec.dial
	if err := n.Add("10.244.0.10:8000", ln.Addr().String()); err != nil {
		t.Fatal(err)
	}

	// Unmapped: a pod IP, a public IP, and even the loopback listener itself.
	for _, addr := range []string{"10.244.0.99:8000", "192.0.2.1:80", ln.Addr().String()} {
		_, err := n.DialContext(context.Background(), "tcp", addr)
		var refused *RefusedError
		if !errors.As(err, &refused) || refused.Addr != addr {
			t.Fatalf("DialContext(%s) error = %v, want *RefusedError", addr, err)
		}
		if n.Refusals()[addr] != 1 {
			t.Fatalf("Refusals()[%s] = %d, want 1", addr, n.Refusals()[addr])
		}
	}
	if len(rec.addrs) != 0 {
		t.Fatalf("the real dialer was called for unmapped addresses: %v", rec.addrs)
	}

	c, err := n.DialContext(context.Background(), "tcp", "10.244.0.10:8000")
	if err != nil {
		t.Fatalf("DialContext(mapped): %v", err)
	}
	b, _ := io.ReadAll(c)
	_ = c.Close()
	if string(b) != "hello" {
		t.Fatalf("read %q through the mapping, want hello", b)
	}
	if len(rec.addrs) != 1 || rec.addrs[0] != ln.Addr().String() {
		t.Fatalf("dialled %v, want only the loopback target %s", rec.addrs, ln.Addr())
	}
}

func TestParseMappings(t *testing.T) {
	tests := []struct {
		in      string
		want    []Mapping
		wantErr string
	}{
		{"", nil, ""},
		{"10.244.0.10:8000=127.0.0.1:38000", []Mapping{{"10.244.0.10:8000", "127.0.0.1:38000"}}, ""},
		{" 10.244.0.10:8000=127.0.0.1:38000 , 10.244.0.11:8000=[::1]:38001,", []Mapping{
			{"10.244.0.10:8000", "127.0.0.1:38000"}, {"10.244.0.11:8000", "[::1]:38001"}}, ""},
		{"10.244.0.10:8000", nil, "want VIRTUAL_IP:PORT=LOOPBACK_IP:PORT"},
		{"10.244.0.10:8000=10.1.1.1:80", nil, "is not loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMappings(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestSeverClosesOpenConnections: a severed connection fails on both ends,
// one closed before is not counted, and new dials still work.
func TestSeverClosesOpenConnections(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	n := New()
	if err := n.Add("10.244.0.9:18000", l.Addr().String()); err != nil {
		t.Fatal(err)
	}
	dial := func() net.Conn {
		c, err := n.DialContext(t.Context(), "tcp", "10.244.0.9:18000")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b, closed := dial(), dial(), dial()
	server := <-accepted
	<-accepted
	<-accepted
	closed.Close()
	if got := n.Sever(l.Addr().String()); got != 2 {
		t.Errorf("Sever closed %d connections, want 2", got)
	}
	for _, c := range []net.Conn{a, b} {
		if _, err := c.Write([]byte("x")); err == nil {
			t.Error("a severed connection still writes")
		}
	}
	_ = server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(server); err != nil {
		t.Errorf("the server side of a severed connection did not see it end: %v", err)
	}
	c := dial()
	defer c.Close()
	if got := n.Sever("127.0.0.1:1"); got != 0 {
		t.Errorf("Sever of an address nothing is connected to closed %d", got)
	}
}
