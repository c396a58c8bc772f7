package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/keyconform/keyconform/suites/scenario"
)

// maxBody bounds how much of a response the suite reads: go-httpbin echoes
// and local replies are small.
const maxBody = 1 << 20

// sender sends Requests to gateway addresses, one connection per request so
// every request sees the data plane's current listener.
type sender struct {
	client *http.Client
}

// newSender returns a sender. With loopbackOnly it refuses to dial anything
// but a loopback address: the sim target's gateways only ever listen there,
// and this machine's rules forbid traffic anywhere else.
func newSender(loopbackOnly bool, timeout time.Duration) *sender {
	dialer := &net.Dialer{Timeout: timeout}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if loopbackOnly {
				if err := requireLoopback(addr); err != nil {
					return nil, err
				}
			}
			return dialer.DialContext(ctx, network, addr)
		},
		DisableKeepAlives:  true,
		DisableCompression: true,
		Proxy:              nil,
	}
	return &sender{client: &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("gateway address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to send a request to %s: this target only sends traffic to loopback addresses", addr)
	}
	return nil
}

// send sends the rendered request r to addr ("host:port").
func (s *sender) send(ctx context.Context, addr string, r scenario.Request) (observed, error) {
	path := r.Path
	if r.Target != "" {
		path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, "http://"+addr+path, nil)
	if err != nil {
		return observed{}, fmt.Errorf("building the request: %w", err)
	}
	if r.Target != "" {
		// The request line is URL.RequestURI(): an opaque URL's Opaque as is.
		req.URL.Opaque = r.Target
	}
	req.Host = r.Host
	for _, h := range r.Headers {
		// Set the map directly: names keep their spelling and repeated
		// names keep their order.
		req.Header[h.Name] = append(req.Header[h.Name], h.Value)
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return observed{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return observed{}, fmt.Errorf("reading the response body: %w", err)
	}
	return observed{Status: resp.StatusCode, Header: resp.Header, Body: body, Echo: parseEcho(body), Elapsed: time.Since(start)}, nil
}
