package dataplane

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"syscall"
	"time"

	"github.com/keyconform/keyconform/sim/podnet"
)

// Envoy's local reply bodies for upstream failures (router.cc: "upstream
// connect error or disconnect/reset before headers. reset reason: <reason>
// [, transport failure reason: <reason>]" and "upstream request timeout").
const (
	bodyConnectFailure = "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused"
	bodyConnectTimeout = "upstream connect error or disconnect/reset before headers. reset reason: connection timeout"
	bodyReset          = "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
	bodyTimeout        = "upstream request timeout"
)

// newReverseProxy forwards to r.URL (set by the router) with the headers the
// connection manager computed on the inbound request, and Envoy's response
// headers and error replies.
func newReverseProxy(transport http.RoundTripper, h *hcmRuntime) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Transport: &timedTransport{base: transport, suppress: h.spec.suppressEnvoyHeaders},
		Rewrite: func(pr *httputil.ProxyRequest) {
			// The inbound headers already are exactly what Envoy sends:
			// undo ReverseProxy's own hop-by-hop and forwarding-header
			// handling, and keep the query as received.
			pr.Out.Header = pr.In.Header
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery
			pr.Out.Host = pr.In.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			h.setServer(resp.Header)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == context.Canceled {
				return // the client went away; Envoy sends nothing either
			}
			status, body := http.StatusServiceUnavailable, bodyReset
			var refused *podnet.RefusedError
			var nerr net.Error
			switch {
			case errors.Is(r.Context().Err(), context.DeadlineExceeded):
				status, body = http.StatusGatewayTimeout, bodyTimeout
			case errors.As(err, &refused), errors.Is(err, syscall.ECONNREFUSED):
				body = bodyConnectFailure
			case errors.As(err, &nerr) && nerr.Timeout():
				body = bodyConnectTimeout
			}
			h.localReply(w, status, body)
		},
	}
}

// timedTransport adds x-envoy-upstream-service-time: the milliseconds from
// sending the request upstream to receiving its response headers.
type timedTransport struct {
	base     http.RoundTripper
	suppress bool
}

func (t *timedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if err == nil && !t.suppress {
		resp.Header["X-Envoy-Upstream-Service-Time"] = []string{strconv.FormatInt(time.Since(start).Milliseconds(), 10)}
	}
	return resp, err
}
