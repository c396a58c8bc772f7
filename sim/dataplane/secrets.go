package dataplane

import (
	"crypto/tls"
	"errors"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
)

// secretSpec is a compiled SDS Secret: a certificate a TLS listener
// presents. Its key material is never part of an error or a log line.
type secretSpec struct {
	cert tls.Certificate
}

func compileSecretMessage(m proto.Message) (string, *secretSpec, error) {
	s, ok := m.(*tlsv3.Secret)
	if !ok {
		return "", nil, fmt.Errorf("%s in a secret response", m.ProtoReflect().Descriptor().FullName())
	}
	if err := checkRules(tlsFieldRules, s, "secret", ""); err != nil {
		return s.GetName(), nil, err
	}
	if s.GetTlsCertificate() == nil {
		return s.GetName(), nil, errors.New("secret has no tls_certificate: the sim implements certificate secrets only")
	}
	cert, err := compileCertificate(s.GetTlsCertificate())
	if err != nil {
		return s.GetName(), nil, fmt.Errorf("tls_certificate: %w", err)
	}
	return s.GetName(), &secretSpec{cert: cert}, nil
}

// compileCertificate loads a certificate chain and its private key, as
// Envoy's server context does before it accepts the listener or secret.
func compileCertificate(c *tlsv3.TlsCertificate) (tls.Certificate, error) {
	chain, err := inlineData(c.GetCertificateChain(), "certificate_chain")
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := inlineData(c.GetPrivateKey(), "private_key")
	if err != nil {
		return tls.Certificate{}, err
	}
	// X509KeyPair's errors name what is wrong, never the bytes.
	cert, err := tls.X509KeyPair(chain, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("failed to load the certificate chain and private key: %w", err)
	}
	return cert, nil
}

func inlineData(d *corev3.DataSource, field string) ([]byte, error) {
	switch s := d.GetSpecifier().(type) {
	case *corev3.DataSource_InlineBytes:
		return s.InlineBytes, nil
	case *corev3.DataSource_InlineString:
		return []byte(s.InlineString), nil
	case nil:
		return nil, fmt.Errorf("%s is missing", field)
	default:
		return nil, fmt.Errorf("%s: %T is not implemented by the sim: it reads no files or environment, only inline_bytes and inline_string", field, s)
	}
}
