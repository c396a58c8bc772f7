package dataplane

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyconform/keyconform/sim/podnet"
)

// The proxy's transport as proxy.go builds it: dials through the pod network.
func podTransport(network *podnet.Network) *http.Transport {
	return &http.Transport{Proxy: nil, DialContext: network.DialContext}
}

func pickedRequest(t *testing.T, p *pickedHost, path string, hdr http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(context.WithValue(context.Background(), pickKey{}, p), http.MethodGet, "http://"+p.host.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	return req
}

// A host's active requests run from the request's attachment to a
// connection to the end of its response (ConnPoolImplBase::
// attachStreamToClient to onStreamClosed): a request that never connects
// is never counted.
func TestClusterTransportActiveRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "test" {
			w.Header().Set("Connection", "Upgrade")
			w.Header().Set("Upgrade", "test")
			w.WriteHeader(http.StatusSwitchingProtocols)
			c, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			line, _ := rw.ReadString('\n')
			_, _ = rw.WriteString("echo " + line)
			_ = rw.Flush()
			return
		}
		_, _ = io.WriteString(w, "body")
	}))
	defer srv.Close()
	network := podnet.New()
	const virtual, unmapped = "10.244.9.1:80", "10.244.9.2:80"
	if err := network.Add(virtual, srv.Listener.Addr().String()); err != nil {
		t.Fatal(err)
	}
	spec := &clusterSpec{name: "c", connectTimeout: time.Second}
	tr := &clusterTransport{base: podTransport(network)}
	host := &lbHost{addr: virtual, stats: &hostStats{}}
	p := &pickedHost{up: &upstream{spec: spec}, host: host}

	resp, err := tr.RoundTrip(pickedRequest(t, p, "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	if n := host.stats.active.Load(); n != 1 {
		t.Errorf("during the response: %d active, want 1", n)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "body" {
		t.Errorf("body %q", b)
	}
	resp.Body.Close()
	if n := host.stats.active.Load(); n != 0 {
		t.Errorf("after the response: %d active, want 0", n)
	}

	refused := &pickedHost{up: p.up, host: &lbHost{addr: unmapped, stats: &hostStats{}}}
	if _, err := tr.RoundTrip(pickedRequest(t, refused, "/", nil)); !errors.As(err, new(*podnet.RefusedError)) {
		t.Errorf("unmapped endpoint: %v", err)
	}
	if n := refused.host.stats.active.Load(); n != 0 {
		t.Errorf("a request that never connected left %d active", n)
	}

	// An upgraded connection stays writable for ReverseProxy, and its
	// request active until it closes.
	resp, err = tr.RoundTrip(pickedRequest(t, p, "/", http.Header{"Connection": {"Upgrade"}, "Upgrade": {"test"}}))
	if err != nil {
		t.Fatal(err)
	}
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	if resp.StatusCode != http.StatusSwitchingProtocols || !ok {
		t.Fatalf("upgrade -> %d, body %T", resp.StatusCode, resp.Body)
	}
	_, _ = io.WriteString(rwc, "hi\n")
	if line, _ := bufio.NewReader(rwc).ReadString('\n'); line != "echo hi\n" {
		t.Errorf("through the upgraded connection: %q", line)
	}
	if n := host.stats.active.Load(); n != 1 {
		t.Errorf("upgraded: %d active, want 1", n)
	}
	rwc.Close()
	if n := host.stats.active.Load(); n != 0 {
		t.Errorf("after the upgraded connection: %d active, want 0", n)
	}
}

// Each cluster dials through its own transport, bounded by its
// connect_timeout.
func TestClusterTransportConnectTimeout(t *testing.T) {
	deadlines := make(chan time.Duration, 2)
	base := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		d, _ := ctx.Deadline()
		deadlines <- time.Until(d)
		return nil, &net.OpError{Op: "dial", Err: context.DeadlineExceeded}
	}}
	for _, timeout := range []time.Duration{250 * time.Millisecond, 10 * time.Second} {
		spec := &clusterSpec{connectTimeout: timeout}
		tr := spec.transportFor(base)
		if tr == http.RoundTripper(base) || spec.transportFor(base) != tr {
			t.Fatal("the cluster's transport is not its own, or not the same each time")
		}
		req, _ := http.NewRequest(http.MethodGet, "http://10.244.9.1:80/", nil)
		_, _ = tr.RoundTrip(req)
		if d := <-deadlines; d > timeout || d < timeout-time.Second/10 {
			t.Errorf("connect_timeout %v: the dial had %v", timeout, d)
		}
	}
}

// common_http_protocol_options.idle_timeout closes a pooled upstream
// connection idle that long (Envoy's default 1h): the next request opens a
// new connection; within the timeout the connection is reused.
func TestClusterTransportIdleTimeout(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	network := podnet.New()
	if err := network.Add("10.244.9.1:80", srv.Listener.Addr().String()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		idle      time.Duration
		wantConns int32
	}{
		{"idle longer than the timeout", 50 * time.Millisecond, 2},
		{"default timeout (1h)", defaultUpstreamIdleTimeout, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns.Store(0)
			s := &clusterSpec{name: "c", connectTimeout: time.Second, idleTimeout: tc.idle}
			rt := s.transportFor(podTransport(network))
			for range 2 {
				req, err := http.NewRequest(http.MethodGet, "http://10.244.9.1:80/", nil)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := rt.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				time.Sleep(200 * time.Millisecond)
			}
			if n := conns.Load(); n != tc.wantConns {
				t.Errorf("%d connections, want %d", n, tc.wantConns)
			}
		})
	}
}
