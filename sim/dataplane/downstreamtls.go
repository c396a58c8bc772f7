package dataplane

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// downstreamTLS is a compiled DownstreamTlsContext: the certificates a
// filter chain presents and how it negotiates.
type downstreamTLS struct {
	// sdsNames are the certificates' SDS secrets, in order; inline those
	// given in the listener itself, presented first.
	sdsNames []string
	inline   []tls.Certificate

	minVersion, maxVersion uint16
	// alpn is what the sim offers of alpn_protocols: HTTP/1.1 only, the
	// one codec it serves. Envoy would pick h2 where both sides offer it.
	alpn       []string
	requireSNI bool
	noTickets  bool
}

// alpnServed are the application protocols the sim's connection manager
// speaks.
var alpnServed = []string{"http/1.1"}

// tlsVersions are tls_params' protocol versions as crypto/tls numbers.
// Envoy's server default, TLS_AUTO, is TLS 1.2 to 1.3 (compileDownstreamTLS).
var tlsVersions = map[tlsv3.TlsParameters_TlsProtocol]uint16{
	tlsv3.TlsParameters_TLSv1_0: tls.VersionTLS10,
	tlsv3.TlsParameters_TLSv1_1: tls.VersionTLS11,
	tlsv3.TlsParameters_TLSv1_2: tls.VersionTLS12,
	tlsv3.TlsParameters_TLSv1_3: tls.VersionTLS13,
}

func compileTransportSocket(ts *corev3.TransportSocket) (*downstreamTLS, error) {
	if ts.GetTypedConfig() == nil {
		return nil, fmt.Errorf("%q has no typed_config", ts.GetName())
	}
	m, err := unpack(ts.GetTypedConfig())
	if err != nil {
		return nil, err
	}
	ctx, ok := m.(*tlsv3.DownstreamTlsContext)
	if !ok {
		return nil, fmt.Errorf("transport socket %s is not implemented by the sim (only envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext)", ts.GetTypedConfig().GetTypeUrl())
	}
	return compileDownstreamTLS(ctx)
}

func compileDownstreamTLS(ctx *tlsv3.DownstreamTlsContext) (*downstreamTLS, error) {
	if err := checkRules(tlsFieldRules, ctx, "DownstreamTlsContext", ""); err != nil {
		return nil, err
	}
	if ctx.GetRequireClientCertificate().GetValue() {
		return nil, errors.New("require_client_certificate: client certificates (mTLS) are not implemented by the sim")
	}
	common := ctx.GetCommonTlsContext()
	d := &downstreamTLS{
		minVersion: tls.VersionTLS12,
		maxVersion: tls.VersionTLS13,
		requireSNI: ctx.GetRequireSni().GetValue(),
		noTickets:  ctx.GetDisableStatelessSessionResumption(),
	}
	for _, p := range alpnServed {
		if slices.Contains(common.GetAlpnProtocols(), p) {
			d.alpn = append(d.alpn, p)
		}
	}
	if p := common.GetTlsParams(); p != nil {
		if v := p.GetTlsMinimumProtocolVersion(); v != tlsv3.TlsParameters_TLS_AUTO {
			d.minVersion = tlsVersions[v]
		}
		if v := p.GetTlsMaximumProtocolVersion(); v != tlsv3.TlsParameters_TLS_AUTO {
			d.maxVersion = tlsVersions[v]
		}
		if d.minVersion > d.maxVersion {
			return nil, fmt.Errorf("tls_params: minimum protocol version %s is above the maximum %s", p.GetTlsMinimumProtocolVersion(), p.GetTlsMaximumProtocolVersion())
		}
	}
	for i, c := range common.GetTlsCertificates() {
		cert, err := compileCertificate(c)
		if err != nil {
			return nil, fmt.Errorf("tls_certificates[%d]: %w", i, err)
		}
		d.inline = append(d.inline, cert)
	}
	for i, s := range common.GetTlsCertificateSdsSecretConfigs() {
		if s.GetSdsConfig().GetAds() == nil {
			return nil, fmt.Errorf("tls_certificate_sds_secret_configs[%d]: sds_config must be ads: the sim receives secrets over its ADS stream only", i)
		}
		d.sdsNames = append(d.sdsNames, s.GetName())
	}
	if len(d.inline)+len(d.sdsNames) == 0 {
		// Envoy: "No TLS certificates found for server context".
		return nil, errors.New("no TLS certificates found for server context")
	}
	return d, nil
}

// config is the handshake configuration once every SDS secret is known;
// ok is false while one is missing, which keeps the listener warming.
func (d *downstreamTLS) config(secrets map[string]*entry[*secretSpec]) (*tls.Config, bool) {
	certs := slices.Clone(d.inline)
	for _, name := range d.sdsNames {
		s, found := secrets[name]
		if !found {
			return nil, false
		}
		certs = append(certs, s.spec.cert)
	}
	return &tls.Config{
		Certificates:           certs,
		MinVersion:             d.minVersion,
		MaxVersion:             d.maxVersion,
		NextProtos:             d.alpn,
		SessionTicketsDisabled: d.noTickets,
	}, true
}

// tlsFieldRules say what the sim does with each field of a downstream TLS
// context, in the manner of listenerfields.go.
var tlsFieldRules = map[protoreflect.FullName]map[protoreflect.Name]fieldRule{
	"envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext": {
		"common_tls_context":                    walk,
		"require_client_certificate":            implemented, // false only; true is refused by compileDownstreamTLS
		"require_sni":                           implemented,
		"disable_stateless_session_resumption":  implemented,
		"disable_stateful_session_resumption":   neutral("the sim keeps no session cache to resume from"),
		"session_timeout":                       neutral("how long a session may be resumed; resumption changes no request"),
		"full_scan_certs_on_sni_mismatch":       neutral("how Envoy searches its certificates when none names the SNI; the sim presents its first certificate then, as Envoy does by default"),
		"session_ticket_keys":                   rejected("session ticket keys"),
		"session_ticket_keys_sds_secret_config": rejected("session ticket keys"),
		"ocsp_staple_policy":                    rejected("OCSP stapling"),
		"prefer_client_ciphers":                 rejected("cipher preference"),
	},
	"envoy.extensions.transport_sockets.tls.v3.CommonTlsContext": {
		"tls_params":                                       walk,
		"tls_certificates":                                 walk,
		"tls_certificate_sds_secret_configs":               walk,
		"alpn_protocols":                                   implemented,
		"validation_context":                               rejected("client certificate validation (mTLS)"),
		"validation_context_sds_secret_config":             rejected("client certificate validation (mTLS)"),
		"combined_validation_context":                      rejected("client certificate validation (mTLS)"),
		"validation_context_certificate_provider":          rejected("client certificate validation (mTLS)"),
		"validation_context_certificate_provider_instance": rejected("client certificate validation (mTLS)"),
		"tls_certificate_provider_instance":                rejected("certificate provider instances"),
		"tls_certificate_certificate_provider":             rejected("certificate providers"),
		"tls_certificate_certificate_provider_instance":    rejected("certificate provider instances"),
		"custom_tls_certificate_selector":                  rejected("custom certificate selectors"),
		"custom_handshaker":                                rejected("custom handshakers"),
		"key_log":                                          rejected("TLS key logging"),
	},
	"envoy.extensions.transport_sockets.tls.v3.TlsParameters": {
		"tls_minimum_protocol_version": implemented,
		"tls_maximum_protocol_version": implemented,
		"cipher_suites":                rejected("cipher suite lists"),
		"ecdh_curves":                  rejected("ECDH curve lists"),
		"signature_algorithms":         rejected("signature algorithm lists"),
		"compliance_policies":          rejected("TLS compliance policies"),
	},
	"envoy.extensions.transport_sockets.tls.v3.TlsCertificate": {
		"certificate_chain":            implemented, // inline only; see dataSource
		"private_key":                  implemented,
		"pkcs12":                       rejected("PKCS#12 bundles"),
		"watched_directory":            rejected("watched directories"),
		"private_key_provider":         rejected("private key providers"),
		"password":                     rejected("encrypted private keys"),
		"ocsp_staple":                  rejected("OCSP stapling"),
		"signed_certificate_timestamp": rejected("signed certificate timestamps"),
		"tls_params":                   rejected("per-certificate TLS parameters"),
	},
	"envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig": {
		"name":       implemented,
		"sds_config": implemented, // ADS only, checked by compileDownstreamTLS
	},
	"envoy.extensions.transport_sockets.tls.v3.Secret": {
		"name":                implemented,
		"tls_certificate":     walk,
		"session_ticket_keys": rejected("session ticket keys"),
		"validation_context":  rejected("validation contexts (mTLS, upstream TLS)"),
		"generic_secret":      rejected("generic secrets"),
	},
}
