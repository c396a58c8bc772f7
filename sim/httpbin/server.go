// Package httpbin runs go-httpbin, the sample app the seed document deploys
// behind the Gateway, in process on a loopback port.
package httpbin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/mccutchen/go-httpbin/v2/httpbin"
)

// Server is a go-httpbin instance listening on loopback.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Handler returns go-httpbin's handler (/headers, /get, /status/N,
// /anything, /cookies, ...).
func Handler() http.Handler {
	return httpbin.New(httpbin.WithMaxDuration(30 * time.Second)).Handler()
}

// Start listens on addr, a loopback IP:port (port 0 picks a free one), and
// serves go-httpbin until Close.
func Start(addr string) (*Server, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("httpbin: listen address %q: want a loopback IP:port such as 127.0.0.1:8000: %w", addr, err)
	}
	if !ap.Addr().IsLoopback() {
		return nil, fmt.Errorf("httpbin: listen address %q is not loopback; the simulated backend only listens on 127.0.0.0/8 or ::1", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("httpbin: %w", err)
	}
	return Serve(ln), nil
}

// Serve serves go-httpbin on ln, bound by the caller to a loopback address
// (a simulated pod's socket, say), until Close.
func Serve(ln net.Listener) *Server {
	s := &Server{ln: ln, srv: &http.Server{Handler: Handler(), ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("httpbin stopped", "addr", ln.Addr().String(), "error", err)
		}
	}()
	return s
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and its connections.
func (s *Server) Close() error { return s.srv.Close() }

// Shutdown stops the server gracefully.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
