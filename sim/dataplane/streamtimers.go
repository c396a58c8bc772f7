package dataplane

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// defaultStreamIdleTimeout is the connection manager's stream_idle_timeout
// default (5 minutes); the sim rejects any other value there.
const defaultStreamIdleTimeout = 5 * time.Minute

// Why a stream was ended by one of its timers: the context cause.
var (
	errRouteTimeout = errors.New("route timeout")
	errStreamIdle   = errors.New("stream idle timeout")
	errMaxDuration  = errors.New("max stream duration")
)

// stream is the timers of one routed request, as Envoy's connection
// manager (ActiveStream) and router run them:
//
//   - the stream idle timer (ActiveStream::resetIdleTimer, onIdleTimeout):
//     the connection manager's 5 minutes, or the route's idle_timeout
//     (refreshIdleTimeout; 0 disables it), restarted whenever request data
//     arrives or response headers or data go out;
//   - the route's max_stream_duration (refreshDurationTimeout,
//     onStreamMaxDurationReached), from the start of the stream;
//   - the route's timeout (Router::Filter::onRequestComplete,
//     onResponseTimeout), from when the whole request has been received.
//
// When one fires before the response has started, the reply is a local
// one (directly, or from the proxy's error handler when the upstream
// request is cut); after, the stream is reset: the upstream request is
// cancelled and the downstream connection closed.
type stream struct {
	h      *hcmRuntime
	sel    routed
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	idle     time.Duration
	idleT    *time.Timer
	timers   []*time.Timer
	started  bool  // response headers went out (or the connection was hijacked)
	swallow  bool  // a timer's local reply went out instead of the response
	fired    error // the timer that ended the stream
	done     bool
	complete bool // the whole request has been received
	route    time.Duration
}

func (h *hcmRuntime) newStream(ctx context.Context, sel routed, start time.Time) (context.Context, *stream) {
	ctx, cancel := context.WithCancelCause(ctx)
	s := &stream{h: h, sel: sel, cancel: cancel, idle: h.spec.streamIdle, route: sel.rt.timeout}
	if d := sel.rt.streamLimits.idle; d != nil {
		s.idle = *d
	}
	if s.idle > 0 {
		s.idleT = time.AfterFunc(s.idle, func() { s.fire(errStreamIdle) })
	}
	if d := sel.rt.streamLimits.maxDuration; d != nil && *d > 0 {
		s.timers = append(s.timers, time.AfterFunc(max(0, *d-time.Since(start)), func() { s.fire(errMaxDuration) }))
	}
	return ctx, s
}

// stop ends the stream's timers once the request is done.
func (s *stream) stop() {
	s.mu.Lock()
	s.done = true
	if s.idleT != nil {
		s.idleT.Stop()
	}
	for _, t := range s.timers {
		t.Stop()
	}
	s.mu.Unlock()
	s.cancel(nil)
}

func (s *stream) fire(cause error) {
	s.mu.Lock()
	if s.done || s.fired != nil {
		s.mu.Unlock()
		return
	}
	s.fired = cause
	s.mu.Unlock()
	s.cancel(cause)
}

func (s *stream) activity() {
	s.mu.Lock()
	if s.idleT != nil && !s.done {
		s.idleT.Reset(s.idle)
	}
	s.mu.Unlock()
}

// requestComplete marks the whole request received, which starts the
// route timeout.
func (s *stream) requestComplete() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.complete || s.done {
		return
	}
	s.complete = true
	if s.route > 0 {
		s.timers = append(s.timers, time.AfterFunc(s.route, func() { s.fire(errRouteTimeout) }))
	}
}

// timeoutReply is the local reply for the timer that fired:
// Router::Filter::onUpstreamTimeoutAbort's 504, or the connection
// manager's (Http::Utility::maybeRequestTimeoutCode: 504 when the whole
// request was received, else 408, after which an HTTP/1 connection is
// closed as the response went out before the request was complete).
func (s *stream) timeoutReply(cause error) (int, string, bool) {
	var body string
	switch {
	case errors.Is(cause, errRouteTimeout):
		return http.StatusGatewayTimeout, bodyTimeout, false
	case errors.Is(cause, errStreamIdle):
		body = "stream timeout"
	case errors.Is(cause, errMaxDuration):
		body = "downstream duration timeout"
	default:
		return 0, "", false
	}
	s.mu.Lock()
	complete := s.complete
	s.mu.Unlock()
	if complete {
		return http.StatusGatewayTimeout, body, false
	}
	return http.StatusRequestTimeout, body, true
}

// replyFired sends the fired timer's local reply on w, unless the response
// has started. It reports whether it did.
func (s *stream) replyFired(w http.ResponseWriter) bool {
	s.mu.Lock()
	cause := s.fired
	if cause == nil || s.started {
		s.mu.Unlock()
		return false
	}
	s.started, s.swallow = true, true
	s.mu.Unlock()
	status, body, closeConn := s.timeoutReply(cause)
	// The proxy may have copied the upstream response's headers already:
	// a local reply has its own.
	clear(w.Header())
	if closeConn {
		w.Header()["Connection"] = []string{"close"}
	}
	s.h.routeLocalReply(w, s.sel, status, body)
	_ = http.NewResponseController(w).Flush()
	return true
}

// streamBody is a request body that tells the stream when data arrives
// and when it ends.
type streamBody struct {
	io.ReadCloser
	s *stream
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.s.activity()
	}
	if err == io.EOF {
		b.s.requestComplete()
	}
	return n, err
}

// streamWriter is the response writer of a stream: it restarts the idle
// timer on every write, marks the response started, and turns a response
// the upstream sends after a timer fired into that timer's local reply.
type streamWriter struct {
	http.ResponseWriter
	s *stream
}

func (w *streamWriter) WriteHeader(code int) {
	if w.s.replyFired(w.ResponseWriter) {
		return
	}
	w.s.mu.Lock()
	swallow := w.s.swallow
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.s.started = true
	}
	w.s.mu.Unlock()
	if swallow {
		return
	}
	w.s.activity()
	w.ResponseWriter.WriteHeader(code)
	// Envoy's codec sends response headers as soon as they are encoded;
	// Go's server would hold them until the first body write.
	if code >= 200 {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *streamWriter) Write(b []byte) (int, error) {
	w.s.mu.Lock()
	swallow, started := w.s.swallow, w.s.started
	w.s.mu.Unlock()
	if swallow {
		return len(b), nil
	}
	if !started {
		w.WriteHeader(http.StatusOK)
		if w.s.swallowing() {
			return len(b), nil
		}
	}
	w.s.activity()
	return w.ResponseWriter.Write(b)
}

func (s *stream) swallowing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.swallow
}

func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection over for an upgrade: the 101 goes out on
// it, and the idle timer keeps watching its traffic.
func (w *streamWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.s.mu.Lock()
	w.s.started = true
	w.s.mu.Unlock()
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &streamConn{Conn: conn, s: w.s}, brw, nil
}

type streamConn struct {
	net.Conn
	s *stream
}

func (c *streamConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.s.activity()
	}
	return n, err
}

func (c *streamConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.s.activity()
	}
	return n, err
}
