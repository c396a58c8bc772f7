package echobasic

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// h2cClient speaks HTTP/2 without TLS from the first byte (prior
// knowledge), as the suite's H2C_PRIOR_KNOWLEDGE requests do.
func h2cClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func TestH2CPort(t *testing.T) {
	c := start(t, baseEnv(), nil)
	addr := c.addr(t, 3001)
	tests := []struct {
		name   string
		target string
		status int
		proto  string // of the echo; empty when no echo
		body   string
	}{
		// Every path echoes on this port: no health, status or retry.
		{name: "echo", target: "/foo?x=1", status: 200, proto: "HTTP/2.0"},
		{name: "health echoes", target: "/health", status: 200, proto: "HTTP/2.0"},
		{name: "status echoes", target: "/status/404", status: 200, proto: "HTTP/2.0"},
		{name: "retry echoes", target: "/retry/?uuid=h&succeedAfter=5", status: 200, proto: "HTTP/2.0"},
		{name: "slashes not folded, still echoed", target: "//a//b", status: 200, proto: "HTTP/2.0"},
		{name: "bad delay", target: "/?delay=x", status: 500, body: `{"message":"time: invalid duration \"x\""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Path, req.URL.RawQuery, _ = strings.Cut(tt.target, "?")
			req.Host = "h2c.example"
			req.Header.Set("X-Echo-Set-Header", "X-Answer: 42")
			resp, body := do(t, h2cClient(), req)
			if resp.StatusCode != tt.status || resp.Proto != "HTTP/2.0" {
				t.Fatalf("got %d over %s, want %d over HTTP/2.0; body %q", resp.StatusCode, resp.Proto, tt.status, body)
			}
			if tt.body != "" && string(body) != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
			if tt.proto == "" {
				return
			}
			e := decodeEcho(t, body)
			if e.Path != tt.target || e.Proto != tt.proto || e.Host != "h2c.example" || e.HTTPPort != "3000" || e.Pod != "infra-backend-v1-abc" || e.TLS != nil {
				t.Errorf("echo %+v", e)
			}
			if resp.Header.Get("Content-Type") != "application/json" || strings.TrimSpace(resp.Header.Get("X-Answer")) != "42" {
				t.Errorf("response headers %v", resp.Header)
			}
		})
	}
}

// Over HTTP/1.x, the h2c port wants at least the upgrade header; net/http
// does not upgrade, so the answer is HTTP/1.1. The HTTP port ignores the
// header and refuses the HTTP/2 preface.
func TestH2CPortOverHTTP1(t *testing.T) {
	c := start(t, baseEnv(), nil)
	tests := []struct {
		name    string
		port    int
		upgrade string
		status  int
		body    string
		echoed  bool
	}{
		{name: "no upgrade", port: 3001, status: 400, body: "Expected h2c request"},
		{name: "upgrade to h2c", port: 3001, upgrade: "h2c", status: 200, echoed: true},
		{name: "upgrade is case sensitive", port: 3001, upgrade: "H2C", status: 400, body: "Expected h2c request"},
		{name: "other upgrade", port: 3001, upgrade: "websocket", status: 400, body: "Expected h2c request"},
		{name: "http port ignores upgrade", port: 3000, upgrade: "h2c", status: 200, echoed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := "GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
			if tt.upgrade != "" {
				req += "Upgrade: " + tt.upgrade + "\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n"
			}
			resp, err := rawRoundTrip(t, c.addr(t, tt.port), req+"\r\n")
			if err != nil {
				t.Fatal(err)
			}
			if resp.status != tt.status {
				t.Fatalf("status %d, want %d; body %q", resp.status, tt.status, resp.body)
			}
			if tt.body != "" {
				if resp.body != tt.body || resp.header.Get("Content-Type") != "text/plain; charset=utf-8" {
					t.Errorf("body %q (%s), want %q", resp.body, resp.header.Get("Content-Type"), tt.body)
				}
			}
			if tt.echoed {
				e := decodeEcho(t, []byte(resp.body))
				if e.Proto != "HTTP/1.1" || e.Headers["Upgrade"][0] != tt.upgrade {
					t.Errorf("echo %+v", e)
				}
			}
		})
	}

	t.Run("http port answers the preface with 400", func(t *testing.T) {
		resp, err := rawRoundTrip(t, c.addr(t, 3000), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
		if err != nil || resp.status != 400 || resp.body != "" {
			t.Fatalf("got %+v, %v; want 400", resp, err)
		}
	})
	t.Run("http port refuses prior knowledge", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+c.addr(t, 3000)+"/", nil)
		if resp, err := h2cClient().Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("HTTP/2 answered on the HTTP port: %d", resp.StatusCode)
		}
	})
}
