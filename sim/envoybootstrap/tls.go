package envoybootstrap

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

const whyRotation = "makes Envoy reload the files when they change; the sim reads them once, at start"

var upstreamTLSFields = map[protoreflect.Name]rule{
	"common_tls_context": implemented,
	"sni":                implemented,
	"max_session_keys":   ignored("how many TLS sessions Envoy keeps for resumption: handshake cost only"),
}

var commonTLSFields = map[protoreflect.Name]rule{
	"tls_params":                           implemented,
	"tls_certificates":                     implemented,
	"tls_certificate_sds_secret_configs":   implemented,
	"validation_context":                   implemented,
	"validation_context_sds_secret_config": implemented,
	"combined_validation_context":          implemented,
	"alpn_protocols":                       implemented,
}

var tlsParamsFields = map[protoreflect.Name]rule{
	"tls_minimum_protocol_version": implemented,
	"tls_maximum_protocol_version": implemented,
}

var tlsCertificateFields = map[protoreflect.Name]rule{
	"certificate_chain": implemented,
	"private_key":       implemented,
	"watched_directory": ignored(whyRotation),
}

var validationContextFields = map[protoreflect.Name]rule{
	"trusted_ca":                           implemented,
	"match_typed_subject_alt_names":        implemented,
	"match_subject_alt_names":              implemented,
	"trust_chain_verification":             implemented,
	"watched_directory":                    ignored(whyRotation),
	"suppress_client_ca_list":              ignored("applies to downstream (server) connections only; the ADS connection is upstream"),
	"require_signed_certificate_timestamp": ignored("not implemented by Envoy either (hidden in its API docs)"),
}

var combinedValidationFields = map[protoreflect.Name]rule{
	"default_validation_context":           implemented,
	"validation_context_sds_secret_config": implemented,
}

// upstreamTLS turns an UpstreamTlsContext (source/common/tls/context_impl.cc,
// cert_validator/default_validator.cc) into a client configuration that
// verifies what Envoy verifies, and nothing more:
//
//   - Without a trusted CA, Envoy does not verify the server's certificate
//     at all (CertificateValidationContext.trusted_ca: "If not specified
//     and a peer certificate is presented it will not be verified").
//   - With one, it verifies the chain against it, partial chains included
//     (X509_V_FLAG_PARTIAL_CHAIN: any certificate in trusted_ca is an
//     anchor, as in Go's x509 roots), with the "ssl_server" purpose (Go's
//     default ExtKeyUsageServerAuth), but not the host name: an upstream's
//     name is checked only through match_typed_subject_alt_names.
//
// So the configuration sets InsecureSkipVerify, which only turns off Go's
// own checks, and does Envoy's in VerifyConnection, which also runs on
// resumed sessions.
func (l *loader) upstreamTLS(u *tlsv3.UpstreamTlsContext, path string) (*tls.Config, error) {
	if err := l.check.fields(u, "field", path, upstreamTLSFields); err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		// The sni field is sent as is; without it Envoy sends no SNI
		// (auto_host_sni is not implemented here). A caller that dials
		// through grpc-go's credentials gets ServerName filled with the
		// dialled host when it is empty, which changes SNI only.
		ServerName:         u.GetSni(),
		InsecureSkipVerify: true,
		// Envoy's client defaults (TlsParameters): TLSv1_2 to TLSv1_2.
		MinVersion: tls.VersionTLS12,
		MaxVersion: tls.VersionTLS12,
	}
	ctx := u.GetCommonTlsContext()
	if ctx == nil {
		return cfg, nil
	}
	path += ".common_tls_context"
	if err := l.check.fields(ctx, "field", path, commonTLSFields); err != nil {
		return nil, err
	}
	if err := l.tlsVersions(ctx.GetTlsParams(), path+".tls_params", cfg); err != nil {
		return nil, err
	}
	cert, err := l.clientCertificate(ctx, path)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		// BoringSSL presents the configured certificate whatever CAs the
		// server's CertificateRequest lists; Go's default would send none
		// when they do not match.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	verify, err := l.validation(ctx, path)
	if err != nil {
		return nil, err
	}
	cfg.VerifyConnection = verify
	cfg.NextProtos = ctx.GetAlpnProtocols()
	return cfg, nil
}

func (l *loader) tlsVersions(p *tlsv3.TlsParameters, path string, cfg *tls.Config) error {
	if p == nil {
		return nil
	}
	if err := l.check.fields(p, "field", path, tlsParamsFields); err != nil {
		return err
	}
	version := func(v tlsv3.TlsParameters_TlsProtocol, def uint16) uint16 {
		switch v {
		case tlsv3.TlsParameters_TLSv1_0:
			return tls.VersionTLS10
		case tlsv3.TlsParameters_TLSv1_1:
			return tls.VersionTLS11
		case tlsv3.TlsParameters_TLSv1_2:
			return tls.VersionTLS12
		case tlsv3.TlsParameters_TLSv1_3:
			return tls.VersionTLS13
		default: // TLS_AUTO
			return def
		}
	}
	cfg.MinVersion = version(p.GetTlsMinimumProtocolVersion(), cfg.MinVersion)
	cfg.MaxVersion = version(p.GetTlsMaximumProtocolVersion(), cfg.MaxVersion)
	if cfg.MinVersion > cfg.MaxVersion {
		return fmt.Errorf("%s: tls_minimum_protocol_version %s is above tls_maximum_protocol_version %s (Envoy's client maximum defaults to TLSv1_2)", path, p.GetTlsMinimumProtocolVersion(), p.GetTlsMaximumProtocolVersion())
	}
	return nil
}

// clientCertificate returns the certificate the client presents, or nil.
func (l *loader) clientCertificate(ctx *tlsv3.CommonTlsContext, path string) (*tls.Certificate, error) {
	inline, sds := ctx.GetTlsCertificates(), ctx.GetTlsCertificateSdsSecretConfigs()
	switch n := len(inline) + len(sds); {
	case n == 0:
		return nil, nil
	case n > 1:
		// ClientContextConfigImpl (source/common/tls/context_config_impl.cc).
		return nil, fmt.Errorf("%s: %d certificates: Envoy rejects it (\"Multiple TLS certificates are not supported for client contexts\")", path, n)
	}
	if len(inline) == 1 {
		return l.certificate(inline[0], path+".tls_certificates[0]")
	}
	cfgPath := path + ".tls_certificate_sds_secret_configs[0]"
	var cert *tls.Certificate
	err := l.secret(sds[0], cfgPath, false, func(s *tlsv3.Secret, at string) error {
		var err error
		cert, err = l.certificate(s.GetTlsCertificate(), join(at, "tls_certificate"))
		return err
	})
	return cert, err
}

// certificate loads a certificate chain and its key. Errors never quote
// either: tls.X509KeyPair's do not.
func (l *loader) certificate(tc *tlsv3.TlsCertificate, path string) (*tls.Certificate, error) {
	if err := l.check.fields(tc, "field", path, tlsCertificateFields); err != nil {
		return nil, err
	}
	if tc.GetCertificateChain() == nil || tc.GetPrivateKey() == nil {
		return nil, fmt.Errorf("%s: the sim implements a certificate_chain with its private_key", path)
	}
	chain, err := l.dataSource(tc.GetCertificateChain(), path+".certificate_chain")
	if err != nil {
		return nil, err
	}
	key, err := l.dataSource(tc.GetPrivateKey(), path+".private_key")
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(chain, key)
	if err != nil {
		return nil, fmt.Errorf("%s: certificate_chain and private_key: %w", path, err)
	}
	return &cert, nil
}

// validation returns the check of the server's certificate that the
// context's validation context asks for, or nil when it asks for none.
func (l *loader) validation(ctx *tlsv3.CommonTlsContext, path string) (func(tls.ConnectionState) error, error) {
	var verify func(tls.ConnectionState) error
	var err error
	switch t := ctx.GetValidationContextType().(type) {
	case nil:
		return nil, nil
	case *tlsv3.CommonTlsContext_ValidationContext:
		return l.validationContext(t.ValidationContext, path+".validation_context")
	case *tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig:
		err = l.secret(t.ValidationContextSdsSecretConfig, path+".validation_context_sds_secret_config", true, func(s *tlsv3.Secret, at string) error {
			verify, err = l.validationContext(s.GetValidationContext(), join(at, "validation_context"))
			return err
		})
		return verify, err
	case *tlsv3.CommonTlsContext_CombinedValidationContext:
		c := t.CombinedValidationContext
		path += ".combined_validation_context"
		if err := l.check.fields(c, "field", path, combinedValidationFields); err != nil {
			return nil, err
		}
		// Envoy merges the context from SDS over the default one with
		// MergeFrom (CommonTlsContext.CombinedCertificateValidationContext):
		// singular fields replaced, repeated ones appended, bools ORed.
		err = l.secret(c.GetValidationContextSdsSecretConfig(), path+".validation_context_sds_secret_config", true, func(s *tlsv3.Secret, at string) error {
			merged := proto.Clone(c.GetDefaultValidationContext()).(*tlsv3.CertificateValidationContext)
			proto.Merge(merged, s.GetValidationContext())
			verify, err = l.validationContext(merged, join(at, "validation_context")+" (merged over "+path+".default_validation_context)")
			return err
		})
		return verify, err
	default:
		return nil, fmt.Errorf("%s: validation context %T is not implemented by the sim", path, t)
	}
}

// validationContext returns the verification a CertificateValidationContext
// asks for (DefaultCertValidator, source/common/tls/cert_validator/default_validator.cc).
func (l *loader) validationContext(vc *tlsv3.CertificateValidationContext, path string) (func(tls.ConnectionState) error, error) {
	if err := l.check.fields(vc, "field", path, validationContextFields); err != nil {
		return nil, err
	}
	if vc.GetTrustChainVerification() != tlsv3.CertificateValidationContext_VERIFY_TRUST_CHAIN {
		return nil, fmt.Errorf("%s: trust_chain_verification %s is not implemented by the sim", path, vc.GetTrustChainVerification())
	}
	sans, err := l.sanMatchers(vc, path)
	if err != nil {
		return nil, err
	}
	if vc.GetTrustedCa() == nil {
		if len(sans) > 0 {
			// DefaultCertValidator::initializeSslContexts refuses it.
			return nil, fmt.Errorf("%s: subject alt name matchers without trusted_ca: Envoy rejects it (\"SAN-based verification of peer certificates without trusted CA is insecure and not allowed\")", path)
		}
		return nil, nil
	}
	pemData, err := l.dataSource(vc.GetTrustedCa(), path+".trusted_ca")
	if err != nil {
		return nil, err
	}
	roots, err := caPool(pemData)
	if err != nil {
		return nil, fmt.Errorf("%s.trusted_ca: %w", path, err)
	}
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the server presented no certificate")
		}
		leaf := cs.PeerCertificates[0]
		intermediates := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			intermediates.AddCert(c)
		}
		// No DNSName: Envoy does not check an upstream's host name.
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates}); err != nil {
			return fmt.Errorf("server certificate not trusted by %s.trusted_ca: %w", path, err)
		}
		if len(sans) > 0 && !matchesAny(leaf, sans) {
			return fmt.Errorf("server certificate (DNS %q, URI %q) matches none of the subject alt names %s asks for", leaf.DNSNames, leaf.URIs, path)
		}
		return nil
	}, nil
}

// caPool parses trusted_ca: PEM certificates. A CRL in it would make Envoy
// check revocation, which the sim does not.
func caPool(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, err
			}
			pool.AddCert(c)
			n++
		case "X509 CRL":
			return nil, errors.New("holds a certificate revocation list, which the sim does not implement")
		}
	}
	if n == 0 {
		// ContextConfigImpl / DefaultCertValidator: "Failed to load trusted CA certificates from ...".
		return nil, errors.New("Envoy rejects it: no PEM certificate in it (\"Failed to load trusted CA certificates\")")
	}
	return pool, nil
}

// sanMatcher is an exact subject alt name matcher.
type sanMatcher struct {
	typ        tlsv3.SubjectAltNameMatcher_SanType
	exact      string
	ignoreCase bool
}

// sanMatchers returns match_typed_subject_alt_names, or the deprecated
// match_subject_alt_names, which Envoy applies to DNS, URI, email and IP
// SANs alike and ignores when the typed field is set
// (CertificateValidationContextConfigImpl::getSubjectAltNameMatchers).
func (l *loader) sanMatchers(vc *tlsv3.CertificateValidationContext, path string) ([]sanMatcher, error) {
	var out []sanMatcher
	exact := func(m *matcherv3.StringMatcher, where string) (string, error) {
		e, ok := m.GetMatchPattern().(*matcherv3.StringMatcher_Exact)
		if !ok {
			return "", fmt.Errorf("%s: only exact subject alt name matchers are implemented by the sim", where)
		}
		return e.Exact, nil
	}
	for i, m := range vc.GetMatchTypedSubjectAltNames() {
		where := fmt.Sprintf("%s.match_typed_subject_alt_names[%d]", path, i)
		switch m.GetSanType() {
		case tlsv3.SubjectAltNameMatcher_DNS, tlsv3.SubjectAltNameMatcher_URI, tlsv3.SubjectAltNameMatcher_EMAIL, tlsv3.SubjectAltNameMatcher_IP_ADDRESS:
		default:
			return nil, fmt.Errorf("%s: san_type %s is not implemented by the sim (DNS, URI, EMAIL and IP_ADDRESS are)", where, m.GetSanType())
		}
		e, err := exact(m.GetMatcher(), where)
		if err != nil {
			return nil, err
		}
		out = append(out, sanMatcher{typ: m.GetSanType(), exact: e, ignoreCase: m.GetMatcher().GetIgnoreCase()})
	}
	// The deprecated field is still read by Envoy.
	old := vc.GetMatchSubjectAltNames()
	if len(old) > 0 && len(out) > 0 {
		l.check.ignore(path+".match_subject_alt_names", "deprecated; Envoy ignores it when match_typed_subject_alt_names is set")
		return out, nil
	}
	for i, m := range old {
		e, err := exact(m, fmt.Sprintf("%s.match_subject_alt_names[%d]", path, i))
		if err != nil {
			return nil, err
		}
		for _, t := range []tlsv3.SubjectAltNameMatcher_SanType{tlsv3.SubjectAltNameMatcher_DNS, tlsv3.SubjectAltNameMatcher_URI, tlsv3.SubjectAltNameMatcher_EMAIL, tlsv3.SubjectAltNameMatcher_IP_ADDRESS} {
			out = append(out, sanMatcher{typ: t, exact: e, ignoreCase: m.GetIgnoreCase()})
		}
	}
	return out, nil
}

// matchesAny reports whether a SAN of c matches any matcher ("any"
// semantics, as Envoy's).
func matchesAny(c *x509.Certificate, ms []sanMatcher) bool {
	for _, m := range ms {
		var names []string
		switch m.typ {
		case tlsv3.SubjectAltNameMatcher_DNS:
			for _, n := range c.DNSNames {
				// A DNS SAN with an exact matcher follows DNS matching,
				// wildcard certificates included (StringSanMatcher::match,
				// source/common/tls/cert_validator/san_matcher.cc).
				if dnsNameMatch(m.exact, n) {
					return true
				}
			}
			continue
		case tlsv3.SubjectAltNameMatcher_URI:
			for _, u := range c.URIs {
				names = append(names, u.String())
			}
		case tlsv3.SubjectAltNameMatcher_EMAIL:
			names = c.EmailAddresses
		case tlsv3.SubjectAltNameMatcher_IP_ADDRESS:
			for _, ip := range c.IPAddresses {
				names = append(names, ip.String())
			}
		}
		for _, n := range names {
			if n == m.exact || (m.ignoreCase && strings.EqualFold(n, m.exact)) {
				return true
			}
		}
	}
	return false
}

// dnsNameMatch is Envoy's Utility::dnsNameMatch (source/common/tls/utility.cc):
// dnsName, the name wanted, matches pattern, a certificate's DNS SAN,
// case-insensitively; a '*' in the pattern's left-most label, unless that
// label is an A-label ("xn--"), matches within one label.
func dnsNameMatch(dnsName, pattern string) bool {
	name, pat := strings.ToLower(dnsName), strings.ToLower(pattern)
	if name == pat {
		return true
	}
	patLabel, patRest, ok1 := strings.Cut(pat, ".")
	nameLabel, nameRest, ok2 := strings.Cut(name, ".")
	if !ok1 || !ok2 {
		return false
	}
	if !strings.Contains(patLabel, "*") || strings.Contains(patRest, "*") || strings.HasPrefix(patLabel, "xn--") || patRest != nameRest {
		return false
	}
	return labelWildcardMatch(nameLabel, patLabel)
}

// labelWildcardMatch is Envoy's Utility::labelWildcardMatch: one '*' in the
// pattern stands for any part (possibly none) of the label.
func labelWildcardMatch(label, pattern string) bool {
	if pattern == "*" {
		return true
	}
	if strings.Count(pattern, "*") != 1 {
		return false
	}
	before, after, _ := strings.Cut(pattern, "*")
	return len(pattern) <= len(label)+1 && strings.HasPrefix(label, before) && strings.HasSuffix(label, after)
}
