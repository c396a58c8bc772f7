package dataplane

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"strconv"
	"sync"
	"sync/atomic"
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
// headers and error replies. The router's URL host is a pick token
// (upstream.pick): the request goes to the picked endpoint through its
// cluster's transport.
func newReverseProxy(transport http.RoundTripper, h *hcmRuntime) *httputil.ReverseProxy {
	var (
		once         sync.Once
		byID         map[uint64]*upstream
		upstreamByID = func(id uint64) *upstream {
			once.Do(func() {
				byID = make(map[uint64]*upstream, len(h.clusters))
				for _, u := range h.clusters {
					byID[u.id] = u
				}
			})
			return byID[id]
		}
	)
	return &httputil.ReverseProxy{
		Transport: &timedTransport{base: &clusterTransport{base: transport}, suppress: h.spec.suppressEnvoyHeaders},
		Rewrite: func(pr *httputil.ProxyRequest) {
			// The inbound headers already are exactly what Envoy sends:
			// undo ReverseProxy's own hop-by-hop and forwarding-header
			// handling, and keep the query as received.
			pr.Out.Header = pr.In.Header
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery
			pr.Out.Host = pr.In.Host
			if p := parsePickToken(pr.In.URL.Host, upstreamByID); p != nil {
				pr.Out.URL.Host = p.host.addr
				pr.Out = pr.Out.WithContext(context.WithValue(pr.Out.Context(), pickKey{}, p))
				// UpstreamRequest::onPoolReady: auto_host_rewrite sets the
				// host to the picked endpoint's hostname, when it has one
				// (appending the old one to x-forwarded-host if the route
				// says so; no x-envoy-original-host).
				if sel := routedOf(pr.In.Context()); sel.rt != nil && sel.rt.autoHostRewrite && p.host.hostname != "" {
					updateAuthority(pr.Out, p.host.hostname, sel.rt.rewrites.appendXFH, false)
				}
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			// Router::Filter::onUpstreamHeaders: the route's response
			// header mutations, then the connection manager's headers.
			routedOf(resp.Request.Context()).finalizeResponse(resp.Header)
			h.setServer(resp.Header)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			sel := routedOf(r.Context())
			if sw, ok := w.(*streamWriter); ok && sw.s.replyFired(sw.ResponseWriter) {
				return // a stream timer ended the request: its reply went out
			}
			if r.Context().Err() == context.Canceled {
				return // the client went away; Envoy sends nothing either
			}
			status, body := http.StatusServiceUnavailable, bodyReset
			var refused *podnet.RefusedError
			var op *net.OpError
			switch {
			case errors.As(err, &refused), errors.Is(err, syscall.ECONNREFUSED):
				body = bodyConnectFailure
			case errors.As(err, &op) && op.Op == "dial" && op.Timeout():
				// The cluster's connect_timeout (clusterSpec.transportFor):
				// Envoy's PoolFailureReason::Timeout, reset reason
				// ConnectionTimeout (UpstreamRequest::onPoolFailure), with
				// details upstream_reset_before_response_started{connection_timeout}.
				body = bodyConnectTimeout
			}
			h.routeLocalReply(w, sel, status, body)
		},
	}
}

type pickKey struct{}

// clusterTransport sends a picked request through its cluster's transport
// (its own connections, dials bounded by its connect_timeout) and keeps the
// host's active request count as Envoy's connection pool keeps rq_active:
// from when the request is attached to a connection (connected, so a
// request still connecting does not count) until its response is complete
// or it fails.
type clusterTransport struct {
	base http.RoundTripper
}

func (t *clusterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p, _ := req.Context().Value(pickKey{}).(*pickedHost)
	if p == nil {
		return t.base.RoundTrip(req)
	}
	active := &p.host.stats.active
	var attached atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) {
			if attached.CompareAndSwap(false, true) {
				active.Add(1)
			}
		},
	}))
	resp, err := p.up.spec.transportFor(t.base).RoundTrip(req)
	if !attached.Load() {
		return resp, err
	}
	done := sync.OnceFunc(func() { active.Add(-1) })
	if err != nil {
		done()
		return resp, err
	}
	if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
		// A protocol upgrade: ReverseProxy needs the body to be writable.
		resp.Body = &doneReadWriteCloser{rwc, done}
	} else {
		resp.Body = &doneReadCloser{resp.Body, done}
	}
	return resp, nil
}

// doneReadCloser calls done once the body is read to its end or closed.
type doneReadCloser struct {
	io.ReadCloser
	done func()
}

func (b *doneReadCloser) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done()
	}
	return n, err
}

func (b *doneReadCloser) Close() error {
	defer b.done()
	return b.ReadCloser.Close()
}

type doneReadWriteCloser struct {
	io.ReadWriteCloser
	done func()
}

func (b *doneReadWriteCloser) Close() error {
	defer b.done()
	return b.ReadWriteCloser.Close()
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
