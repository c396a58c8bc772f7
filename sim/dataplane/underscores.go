package dataplane

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// checkHeaderNames is common_http_protocol_options.headers_with_underscores_action
// as Envoy's HTTP/1 server codec applies it while parsing the request
// headers (ServerConnectionImpl::checkHeaderNameForUnderscores in
// source/common/http/http1/codec_impl.cc), before the connection manager
// sees the request: ALLOW (the default) keeps them; DROP_HEADER drops every
// header whose name contains '_' (counted in http1.dropped_headers_with_underscores);
// REJECT_REQUEST answers the codec's protocol error: a 400 local reply with
// the body "Bad Request" (details http1.unexpected_underscore), and the
// connection is closed (http1.requests_rejected_with_underscores_in_headers).
// Response headers are never checked. It reports whether the request goes on.
func (h *hcmRuntime) checkHeaderNames(w http.ResponseWriter, r *http.Request) bool {
	stats := h.http1Stats.get()
	action := h.spec.underscores
	if action == corev3.HttpProtocolOptions_ALLOW {
		return true
	}
	for name := range r.Header {
		if !strings.Contains(name, "_") {
			continue
		}
		if action == corev3.HttpProtocolOptions_REJECT_REQUEST {
			stats.rejected.Add(1)
			// The HTTP/1 codec's error, while the headers are parsed: no
			// request headers yet, so never a gRPC reply
			// (ConnectionImpl::sendProtocolError).
			h.badRequest(w, replyForm{}, http.StatusText(http.StatusBadRequest))
			return false
		}
		stats.dropped.Add(uint64(len(r.Header[name])))
		delete(r.Header, name)
	}
	return true
}

// http1CodecStats are the HTTP/1 codec counters the check uses. Envoy
// creates them, in the root scope, with the first HTTP/1 codec
// (Http1::CodecStats::atomicGet), so they appear with the first request.
type http1CodecStats struct {
	once              sync.Once
	stats             *stats
	dropped, rejected *atomic.Uint64
}

func (c *http1CodecStats) get() *http1CodecStats {
	c.once.Do(func() {
		c.dropped = c.stats.counter("http1.dropped_headers_with_underscores")
		c.rejected = c.stats.counter("http1.requests_rejected_with_underscores_in_headers")
	})
	return c
}
