package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// tlsInspector reads the ClientHello's server name, which the filter chains
// of an HTTPS port are chosen by.
func tlsInspector() *listenerv3.ListenerFilter {
	return &listenerv3.ListenerFilter{
		Name:       tlsInspectorName,
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(&tlsinspectorv3.TlsInspector{})},
	}
}

// tlsFilterChain is the filter chain of one HTTPS listener: chosen by its
// hostname as SNI (none: the chain for any other name), terminating TLS
// with its certificates, which come over SDS on the ADS stream, then
// handing requests to hcm.
func tlsFilterChain(l *listenerModel, hcm *listenerv3.Filter) *listenerv3.FilterChain {
	sds := make([]*tlsv3.SdsSecretConfig, len(l.certs))
	for i, c := range l.certs {
		sds[i] = &tlsv3.SdsSecretConfig{Name: secretName(c.secret), SdsConfig: adsConfigSource()}
	}
	fc := &listenerv3.FilterChain{
		Name:    l.name,
		Filters: []*listenerv3.Filter{hcm},
		TransportSocket: &corev3.TransportSocket{
			Name: tlsTransportName,
			ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(&tlsv3.DownstreamTlsContext{
				CommonTlsContext: &tlsv3.CommonTlsContext{
					// HTTP/1.1 only, as clear ports serve: HTTP/2 is in no
					// convention the data planes share.
					AlpnProtocols:                  []string{"http/1.1"},
					TlsCertificateSdsSecretConfigs: sds,
				},
			})},
		},
	}
	if l.hostname != "" {
		// Envoy matches "*.example.com" as Gateway API does: any number of
		// labels, most specific first.
		fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: []string{l.hostname}}
	}
	return fc
}

// envoySecret is a certificate as SDS delivers it.
func envoySecret(c *certificate) *tlsv3.Secret {
	return &tlsv3.Secret{
		Name: secretName(c.secret),
		Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: c.chain}},
			PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: c.key}},
		}},
	}
}
