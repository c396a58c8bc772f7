package echobasic

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// tlsConfig builds the HTTPS listener's configuration from the files the
// environment names. Like the image, it reads the client CAs first, so a
// missing CA file is the error reported when several files are missing.
func (s *Server) tlsConfig(readFile func(string) ([]byte, error)) (*tls.Config, error) {
	f := s.cfg.files
	if f == nil {
		return nil, errors.New("echobasic: TLS is off: TLS_SERVER_CERT and its key (TLS_SERVER_PRIVKEY, or TLS_SERVER_PRIV_KEY in gRPC mode) are not both set")
	}
	if readFile == nil {
		return nil, errors.New("echobasic: TLS is on but no ReadFile was given to read its files")
	}
	// Everything else is left at Go's defaults, as in the image (TLS 1.2
	// and up, Go's cipher suites).
	cfg := &tls.Config{}
	if f.clientCAs != "" {
		pem, err := readFile(f.clientCAs)
		if err != nil {
			return nil, fmt.Errorf("echobasic: reading TLS_CLIENT_CACERTS: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("echobasic: TLS_CLIENT_CACERTS %q holds no PEM certificate", f.clientCAs)
		}
		// A certificate is asked for and must verify if sent, but a
		// client without one is served as well.
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		cfg.ClientCAs = pool
	}
	certPEM, err := readFile(f.cert)
	if err != nil {
		return nil, fmt.Errorf("echobasic: reading TLS_SERVER_CERT: %w", err)
	}
	keyPEM, err := readFile(f.key)
	if err != nil {
		return nil, fmt.Errorf("echobasic: reading %s: %w", f.keyVar, err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("echobasic: TLS_SERVER_CERT %q and %s %q: %w", f.cert, f.keyVar, f.key, err)
	}
	cfg.Certificates = []tls.Certificate{pair}
	return cfg, nil
}
