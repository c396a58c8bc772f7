package echobasic

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is one echo-basic container: its listeners and what they share,
// the retry attempts counted so far and the container's log.
type Server struct {
	cfg     config
	log     io.Writer
	errLog  *log.Logger
	retries retries
	// stop is closed by Close, ending the waits of ?delay= and ?delayRetry=
	// that would otherwise outlive the container.
	stop chan struct{}

	mu     sync.Mutex
	closed bool
	// servers are the HTTP and gRPC servers and the TCP listeners.
	servers []io.Closer
	// hijacked are the WebSocket connections, which http.Server.Close
	// leaves open; a stopped container closes every socket it had.
	hijacked map[io.Closer]struct{}
	// failed is the first error a listener stopped with before Close.
	failed error
}

// Options describe the container Start runs: its environment, how it binds
// ports and reads files, and where its log goes.
type Options struct {
	// Env is the container's environment (see the package documentation
	// for the variables read).
	Env map[string]string
	// Listen binds port inside the container's pod, on every address as
	// the image does (":port").
	Listen func(port int) (net.Listener, error)
	// ReadFile reads a file of the container's filesystem: the TLS files
	// named by TLS_SERVER_CERT, TLS_SERVER_PRIVKEY and TLS_CLIENT_CACERTS.
	// Needed only when HTTPS is on.
	ReadFile func(name string) ([]byte, error)
	// Log receives what the image writes to its standard output and error:
	// one line per listener started, "Echoing back request made to <path>
	// to client (<addr>)" per echo (which the conformance suite's mirror
	// tests look for in the pod's logs), and net/http's errors. Nil
	// discards it.
	Log io.Writer
}

func newServer(env map[string]string, logTo io.Writer) (*Server, error) {
	cfg, err := parseEnv(env)
	if err != nil {
		return nil, err
	}
	if logTo == nil {
		logTo = io.Discard
	}
	w := &syncWriter{w: logTo}
	return &Server{
		cfg: cfg, log: w,
		// The image leaves net/http on the standard logger, whose flags
		// these are.
		errLog:   log.New(w, "", log.LstdFlags),
		retries:  retries{attempts: map[string]int{}},
		stop:     make(chan struct{}),
		hijacked: map[io.Closer]struct{}{},
	}, nil
}

// Serve serves the image's HTTP port (HTTP_PORT) on ln, which the caller
// bound, configured from env, until Close. The h2c and HTTPS ports are not
// opened: add them with ServeH2C and ServeTLS, or use Start, which opens
// all the image would. Its log is discarded.
func Serve(ln net.Listener, env map[string]string) (*Server, error) {
	s, err := newServer(env, nil)
	if err != nil {
		return nil, err
	}
	if s.cfg.mode != modeHTTP {
		return nil, fmt.Errorf("echobasic: %s or %s selects a server other than HTTP, which Start serves", grpcModeVar, tcpModeVar)
	}
	s.serve(ln, &http.Server{Handler: s.routes(), ErrorLog: s.errLog}, "http", s.cfg.httpPortText, nil)
	return s, nil
}

// ServeH2C serves the image's h2c port (H2C_PORT) on ln until Close.
func (s *Server) ServeH2C(ln net.Listener) {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	s.serve(ln, &http.Server{
		Handler:   s.h2cOnly(),
		Protocols: &p,
		// The image's h2c server, unlike its other two, bounds the wait
		// for request headers.
		ReadHeaderTimeout: time.Second,
		ErrorLog:          s.errLog,
	}, "h2c", fmt.Sprint(s.cfg.h2cPort), nil)
}

// ServeTLS serves the image's HTTPS port (HTTPS_PORT) on ln until Close,
// with the certificate, key and client CAs read through readFile from the
// paths in the environment. It fails, leaving ln open, when the
// environment does not turn HTTPS on or a file cannot be read or used:
// the image would then exit.
func (s *Server) ServeTLS(ln net.Listener, readFile func(name string) ([]byte, error)) error {
	cfg, err := s.tlsConfig(readFile)
	if err != nil {
		return err
	}
	s.serveTLS(ln, cfg)
	return nil
}

func (s *Server) serveTLS(ln net.Listener, cfg *tls.Config) {
	s.serve(ln, &http.Server{Handler: s.routes(), TLSConfig: cfg, ErrorLog: s.errLog},
		"https", fmt.Sprint(s.cfg.httpsPort), cfg)
}

// Start opens every listener the image would for o.Env, binding each port
// with o.Listen, and serves them until Close. An error (a bad environment,
// a port that cannot be bound, unusable TLS files) leaves nothing open.
func Start(o Options) (*Server, error) {
	s, err := newServer(o.Env, o.Log)
	if err != nil {
		return nil, err
	}
	if o.Listen == nil {
		return nil, errors.New("echobasic: Options.Listen is required")
	}
	// TLS files are read before anything is bound, so that a bad file
	// does not leave the other listeners behind.
	var tlsCfg *tls.Config
	if s.cfg.files != nil {
		if tlsCfg, err = s.tlsConfig(o.ReadFile); err != nil {
			return nil, err
		}
	}
	listen := func(port int) (net.Listener, error) {
		ln, err := o.Listen(port)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("echobasic: listening on port %d: %w", port, err), s.Close())
		}
		return ln, nil
	}
	switch s.cfg.mode {
	case modeGRPC:
		err = s.startGRPC(tlsCfg, listen)
	case modeTCP:
		err = s.startTCP(tlsCfg, listen)
	default:
		err = s.startHTTP(tlsCfg, listen)
	}
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// startHTTP opens the HTTP mode's listeners: HTTP, h2c and, with tlsCfg,
// HTTPS.
func (s *Server) startHTTP(tlsCfg *tls.Config, listen func(int) (net.Listener, error)) error {
	ln, err := listen(s.cfg.httpPort)
	if err != nil {
		return err
	}
	s.serve(ln, &http.Server{Handler: s.routes(), ErrorLog: s.errLog}, "http", s.cfg.httpPortText, nil)
	if ln, err = listen(s.cfg.h2cPort); err != nil {
		return err
	}
	s.ServeH2C(ln)
	if tlsCfg != nil {
		if ln, err = listen(s.cfg.httpsPort); err != nil {
			return err
		}
		s.serveTLS(ln, tlsCfg)
	}
	return nil
}

// serve runs srv on ln in the background; tlsCfg non-nil makes it HTTPS.
func (s *Server) serve(ln net.Listener, srv *http.Server, kind, port string, tlsCfg *tls.Config) {
	if !s.register(srv, ln) {
		return
	}
	fmt.Fprintf(s.log, "Starting server, listening on port %s (%s)\n", port, kind)
	go func() {
		var err error
		if tlsCfg != nil {
			// The certificate is in TLSConfig already; net/http adds the
			// ALPN protocols (h2, http/1.1) as for the image's files.
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.stopped(kind, ln, err)
		}
	}()
}

// stopped records that a listener stopped on its own with err; Close
// returns the first such error.
func (s *Server) stopped(kind string, ln net.Listener, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		s.failed = fmt.Errorf("echobasic: %s listener %s stopped: %w", kind, ln.Addr(), err)
	}
}

// Close stops every listener and closes every connection, WebSockets
// included. Its error joins those of closing and the first error a
// listener stopped with on its own.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	servers, conns, failed := s.servers, s.hijacked, s.failed
	s.hijacked = nil
	s.mu.Unlock()

	errs := []error{failed}
	for _, srv := range servers {
		if err := srv.Close(); err != nil {
			errs = append(errs, fmt.Errorf("echobasic: closing: %w", err))
		}
	}
	for c := range conns {
		c.Close() // the peer may have closed it already
	}
	return errors.Join(errs...)
}

// register adds srv, which serves ln, for Close to stop; false, with ln
// closed, when the server is closed already.
func (s *Server) register(srv io.Closer, ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		ln.Close()
		return false
	}
	s.servers = append(s.servers, srv)
	return true
}

// track registers a hijacked connection for Close; false when the server
// is closed already, and c is then closed.
func (s *Server) track(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.hijacked[c] = struct{}{}
	return true
}

func (s *Server) untrack(c io.Closer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.hijacked, c)
}

// syncWriter serialises writes from concurrent handlers into one log.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
