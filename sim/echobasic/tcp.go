package echobasic

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"sigs.k8s.io/gateway-api/conformance/echo-basic/tcpserver"
)

// startTCP opens the TCP mode's listeners: plaintext on TCP_PORT, TLS on
// TLS_PORT with tlsCfg (the certificate and key set). Each connection gets the
// image's welcome line, then answers TEST with the pod's context (and what
// TLS negotiated) as JSON, IS_TLS with true or false and PING with PONG,
// one line each; other lines get nothing.
func (s *Server) startTCP(tlsCfg *tls.Config, listen func(int) (net.Listener, error)) error {
	if tlsCfg != nil {
		tlsCfg.MinVersion = tls.VersionTLS12
	}
	ln, err := listen(s.cfg.httpPort)
	if err != nil {
		return err
	}
	s.serveTCP(ln, nil)
	if tlsCfg != nil {
		if ln, err = listen(s.cfg.httpsPort); err != nil {
			return err
		}
		s.serveTCP(ln, tlsCfg)
	}
	return nil
}

func (s *Server) serveTCP(ln net.Listener, tlsCfg *tls.Config) {
	if !s.register(ln, ln) {
		return
	}
	protocol, port := "tcp", s.cfg.httpPort
	if tlsCfg != nil {
		protocol, port = "tls", s.cfg.httpsPort
	}
	fmt.Fprintf(s.log, "Starting server (tcp) protocol=%s port=%d\n", protocol, port)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					s.stopped("TCP "+protocol, ln, err)
				}
				return
			}
			if tlsCfg != nil {
				conn = tls.Server(conn, tlsCfg)
			}
			if !s.track(conn) {
				return
			}
			go func() {
				defer s.untrack(conn)
				defer conn.Close()
				s.echoTCP(conn)
			}()
		}
	}()
}

func (s *Server) echoTCP(conn net.Conn) {
	a := tcpserver.TCPAssertions{Context: tcpserver.Context{
		Namespace: s.cfg.namespace, Ingress: s.cfg.ingress, Service: s.cfg.service, Pod: s.cfg.pod,
		TCPPort: s.cfg.httpPortText, TLSPort: s.cfg.tlsPortText,
	}}
	if tc, ok := conn.(*tls.Conn); ok {
		if err := tc.HandshakeContext(context.Background()); err != nil {
			fmt.Fprintf(s.log, "TLS Handshake failed: %v\n", err)
			return
		}
		st := tc.ConnectionState()
		a.IsTLS = true
		a.TLSAssertion = &tcpserver.TLSAssertions{
			NegotiatedProtocol: st.NegotiatedProtocol, ServerName: st.ServerName,
			Version: tls.VersionName(st.Version), CipherSuite: tls.CipherSuiteName(st.CipherSuite),
			Curves: st.CurveID.String(),
		}
	}
	fmt.Fprint(conn, tcpserver.WelcomeMessage)
	payload, err := json.Marshal(a)
	if err != nil {
		return
	}
	lines := bufio.NewScanner(conn)
	for lines.Scan() {
		switch lines.Text() {
		case "TEST":
			fmt.Fprintf(conn, "%s\n", payload)
		case "IS_TLS":
			fmt.Fprintf(conn, "%t\n", a.IsTLS)
		case "PING":
			fmt.Fprint(conn, "PONG\n")
		}
	}
}
