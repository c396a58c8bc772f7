package dataplane

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// server is one bound listener socket; what it serves with is swapped
// atomically on every update.
type server struct {
	name    string
	bind    netip.AddrPort
	ln      net.Listener
	http    *http.Server
	rt      atomic.Pointer[listenerRuntime]
	serving bool
	log     *slog.Logger

	// attrs hands each accepted connection's attributes from the accept
	// loop to http.Server's ConnContext.
	attrs sync.Map // net.Conn -> connAttrs
}

// listenerRuntime is a listener's filter chains bound to their route
// tables, clusters and certificates.
type listenerRuntime struct {
	spec   *listenerSpec
	chains []chainRuntime // as spec.chains
}

type chainRuntime struct {
	hcm *hcmRuntime
	tls *tls.Config // nil: plain text
}

type attrsKey struct{}

func newServer(name string, addr netip.AddrPort, ln net.Listener, log *slog.Logger) *server {
	s := &server{name: name, bind: addr, ln: ln, log: log.With("listener", name, "addr", ln.Addr().String())}
	s.http = &http.Server{
		Handler:                      s,
		ReadHeaderTimeout:            time.Minute,
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			a, _ := s.attrs.LoadAndDelete(c)
			return context.WithValue(ctx, attrsKey{}, a)
		},
	}
	return s
}

// ServeHTTP serves a request with the filter chain its connection matches
// now: route and certificate updates reach open connections, as in Envoy.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := s.rt.Load()
	a, _ := r.Context().Value(attrsKey{}).(connAttrs)
	i := rt.spec.chooseChain(a)
	if i < 0 || (rt.chains[i].tls != nil) != (r.TLS != nil) {
		// The connection's chain was removed or changed its transport:
		// Envoy drains such connections; the sim closes it.
		panic(http.ErrAbortHandler)
	}
	rt.chains[i].hcm.ServeHTTP(w, r)
}

func (s *server) serve() {
	if s.serving {
		return
	}
	s.serving = true
	s.log.Info("listener serving")
	l := &chainListener{Listener: s.ln, s: s, conns: make(chan net.Conn), done: make(chan struct{})}
	go l.acceptLoop()
	go func() {
		if err := s.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("listener stopped", "error", err)
		}
	}()
}

func (s *server) close() {
	if !s.serving {
		_ = s.ln.Close()
		return
	}
	// Envoy drains a removed listener; the sim lets in-flight requests
	// finish for a short while.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.http.Shutdown(ctx)
	}()
}

// chainListener hands http.Server the connections that found a filter
// chain, TLS ones after their handshake. Connections are read and
// handshaken concurrently, so a slow client holds up no other.
type chainListener struct {
	net.Listener
	s     *server
	conns chan net.Conn
	done  chan struct{}
	err   error // why the accept loop ended, once done is closed
}

func (l *chainListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, l.err
	}
}

func (l *chainListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			l.err = err
			close(l.done)
			return
		}
		rt := l.s.rt.Load()
		if !rt.spec.inspects {
			l.deliver(c, connAttrs{destinationPort: rt.spec.port, transport: transportRaw})
			continue
		}
		go l.classify(c, rt)
	}
}

func (l *chainListener) deliver(c net.Conn, a connAttrs) {
	l.s.attrs.Store(c, a)
	select {
	case l.conns <- c:
	case <-l.done:
		l.s.attrs.Delete(c)
		_ = c.Close()
	}
}

// classify is the TLS inspector and the chain's transport socket: it reads
// whether the connection starts with a TLS handshake record and, if so,
// the ClientHello's server name and protocols; picks the filter chain; and
// completes the handshake with that chain's certificates. A connection
// that matches no chain, or whose handshake fails, is closed.
func (l *chainListener) classify(c net.Conn, rt *listenerRuntime) {
	if d := rt.spec.inspectTimeout; d > 0 {
		_ = c.SetReadDeadline(time.Now().Add(d))
	}
	pc := newPeekedConn(c)
	first, err := pc.r.Peek(1)
	if err != nil {
		_ = c.Close()
		return
	}
	a := connAttrs{destinationPort: rt.spec.port, transport: transportRaw}
	const handshakeRecord = 0x16
	if first[0] != handshakeRecord {
		if i := rt.spec.chooseChain(a); i < 0 || rt.chains[i].tls != nil {
			l.s.log.Debug("closing connection: no plain-text filter chain matches it")
			_ = c.Close()
			return
		}
		_ = c.SetReadDeadline(time.Time{})
		l.deliver(pc, a)
		return
	}
	tc := tls.Server(pc, &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		a = connAttrs{destinationPort: rt.spec.port, transport: transportTLS, sni: h.ServerName, alpn: h.SupportedProtos}
		i := rt.spec.chooseChain(a)
		switch {
		case i < 0:
			return nil, errors.New("no matching filter chain")
		case rt.chains[i].tls == nil:
			return nil, errors.New("the matching filter chain is plain text")
		case rt.spec.chains[i].tls.requireSNI && h.ServerName == "":
			return nil, errors.New("the filter chain requires SNI")
		}
		return rt.chains[i].tls, nil
	}})
	if err := tc.Handshake(); err != nil {
		l.s.log.Debug("closing connection: TLS handshake failed", "error", err)
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	l.deliver(tc, a)
}

// peekedConn is a connection whose first bytes were read ahead to inspect
// them; reads return them first.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func newPeekedConn(c net.Conn) *peekedConn { return &peekedConn{Conn: c, r: bufio.NewReader(c)} }

func (c *peekedConn) Read(b []byte) (int, error) { return c.r.Read(b) }
