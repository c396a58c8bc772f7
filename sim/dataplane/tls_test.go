package dataplane_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/keyconform/keyconform/internal/testpki"
	"github.com/keyconform/keyconform/internal/xdstest"
)

// testCert is a serving certificate and its key, PEM encoded.
type testCert struct{ certPEM, keyPEM []byte }

func serverCert(t *testing.T, ca *testpki.CA, name string) testCert {
	c, k := ca.Issue(t, x509.ExtKeyUsageServerAuth, name)
	return testCert{c, k}
}

func sdsSecret(name string, c testCert) *tlsv3.Secret {
	return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: c.certPEM}},
		PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: c.keyPEM}},
	}}}
}

// tlsChain is one filter chain of an HTTPS listener as Envoy Gateway
// writes it: server names to match, a certificate over SDS, HTTP/1.1 and
// h2 offered.
type tlsChain struct {
	serverNames []string
	secret      string
}

// httpsListener is xdstest.Listener's connection manager behind the TLS
// inspector, once per chain.
func httpsListener(t *testing.T, p uint32, chains ...tlsChain) *listenerv3.Listener {
	l := xdstest.Listener(t, p)
	hcm := l.FilterChains[0].Filters
	l.FilterChains = nil
	l.ListenerFilters = []*listenerv3.ListenerFilter{{
		Name:       "envoy.filters.listener.tls_inspector",
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: xdstest.Any(t, &tlsinspectorv3.TlsInspector{})},
	}}
	for _, c := range chains {
		ctx := &tlsv3.DownstreamTlsContext{
			CommonTlsContext: &tlsv3.CommonTlsContext{
				AlpnProtocols: []string{"h2", "http/1.1"},
				TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: c.secret, SdsConfig: &corev3.ConfigSource{
					ResourceApiVersion:    corev3.ApiVersion_V3,
					ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
				}}},
			},
			SessionTicketKeysType: &tlsv3.DownstreamTlsContext_DisableStatelessSessionResumption{DisableStatelessSessionResumption: true},
		}
		fc := &listenerv3.FilterChain{
			Name:    c.secret,
			Filters: hcm,
			TransportSocket: &corev3.TransportSocket{
				Name:       "envoy.transport_sockets.tls",
				ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: xdstest.Any(t, ctx)},
			},
		}
		if len(c.serverNames) > 0 {
			fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: c.serverNames}
		}
		l.FilterChains = append(l.FilterChains, fc)
	}
	return l
}

// tlsResult is what a client saw over TLS: the certificate presented, the
// protocol agreed, and the request as the backend received it.
type tlsResult struct {
	certName string
	alpn     string
	status   int
	echoed   echo
}

func (e *env) doTLS(t *testing.T, p uint32, sni string, roots *x509.CertPool) (tlsResult, error) {
	t.Helper()
	addr, ok := e.proxy.ListenerAddr(p)
	if !ok {
		t.Fatalf("listener %d is not bound", p)
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{
		ServerName: sni,
		RootCAs:    roots,
		NextProtos: []string{"h2", "http/1.1"},
		// No SNI at all when sni is empty: then the name is only checked
		// against what the test expects.
		InsecureSkipVerify: sni == "",
	})
	if err != nil {
		return tlsResult{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	st := conn.ConnectionState()
	res := tlsResult{certName: st.PeerCertificates[0].DNSNames[0], alpn: st.NegotiatedProtocol}
	req, _ := http.NewRequest(http.MethodGet, "https://www.example.com/anything", nil)
	if err := req.Write(conn); err != nil {
		return res, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	res.status = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		return res, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(&res.echoed); err != nil {
		t.Fatalf("decoding httpbin's echo: %v", err)
	}
	return res, nil
}

// TLS termination: the chain, and so the certificate, is chosen by SNI
// (exact, wildcard, then the chain without names); the certificates come
// over SDS; the backend sees x-forwarded-proto https; HTTP/1.1 is agreed.
func TestTLSTermination(t *testing.T) {
	ca := testpki.NewCA(t, "test CA")
	exact, wildcard, fallback := serverCert(t, ca, "a.example.com"), serverCert(t, ca, "*.example.com"), serverCert(t, ca, "default.test")
	roots := ca.Pool()
	e := newEnv(t)
	e.start(t, append(standard(t, xdstest.VirtualHost(port, "", xdstest.PrefixRoute("all", "/", clusterName))),
		httpsListener(t, port2,
			tlsChain{serverNames: []string{"a.example.com"}, secret: "ns/exact"},
			tlsChain{serverNames: []string{"*.example.com"}, secret: "ns/wildcard"},
			tlsChain{secret: "ns/default"}),
		xdstest.RouteConfig(port2, xdstest.VirtualHost(port2, "", xdstest.PrefixRoute("all", "/", clusterName))),
		sdsSecret("ns/exact", exact), sdsSecret("ns/wildcard", wildcard), sdsSecret("ns/default", fallback),
	)...)

	for _, tc := range []struct{ sni, wantCert string }{
		{"a.example.com", "a.example.com"},
		{"b.example.com", "*.example.com"},
		{"default.test", "default.test"},
		{"", "default.test"},
	} {
		got, err := e.doTLS(t, port2, tc.sni, roots)
		if err != nil {
			t.Fatalf("SNI %q: %v", tc.sni, err)
		}
		if got.certName != tc.wantCert || got.status != http.StatusOK || got.alpn != "http/1.1" || got.echoed.header("X-Forwarded-Proto") != "https" {
			t.Errorf("SNI %q: certificate %q, ALPN %q, status %d, x-forwarded-proto %q; want %q, http/1.1, 200, https",
				tc.sni, got.certName, got.alpn, got.status, got.echoed.header("X-Forwarded-Proto"), tc.wantCert)
		}
	}

	// The admin interface shows the certificates, never their keys.
	var dumped []string
	for _, c := range e.proxy.ConfigDump(false).GetConfigs() {
		secrets := &adminv3.SecretsConfigDump{}
		if c.UnmarshalTo(secrets) != nil {
			continue
		}
		for _, ds := range secrets.GetDynamicActiveSecrets() {
			sec := &tlsv3.Secret{}
			if err := ds.GetSecret().UnmarshalTo(sec); err != nil {
				t.Fatal(err)
			}
			key := sec.GetTlsCertificate().GetPrivateKey()
			if bytes.Contains(key.GetInlineBytes(), []byte("PRIVATE KEY")) || key.GetInlineString() != "" && key.GetInlineString() != "[redacted]" {
				t.Errorf("config dump shows the private key of %s", ds.GetName())
			}
			dumped = append(dumped, ds.GetName())
		}
	}
	if want := []string{"ns/default", "ns/exact", "ns/wildcard"}; !slices.Equal(dumped, want) {
		t.Errorf("config dump secrets %q, want %q", dumped, want)
	}

	// Plain text to a listener whose every chain is TLS: the handshake
	// fails and the connection is closed.
	addr, _ := e.proxy.ListenerAddr(port2)
	if resp, err := e.client.Get("http://" + addr + "/anything"); err == nil {
		resp.Body.Close()
		t.Errorf("plain HTTP to the TLS listener got %s, want the connection closed", resp.Status)
	}
	// The plain listener next to it is untouched.
	if got := e.do(t, request{host: "www.example.com", path: "/anything"}); got.status != http.StatusOK || got.echoed.header("X-Forwarded-Proto") != "http" {
		t.Errorf("plain listener: status %d, x-forwarded-proto %q; want 200, http", got.status, got.echoed.header("X-Forwarded-Proto"))
	}
}

// A listener whose certificate has not come yet is warming, as in Envoy:
// it is not served until the secret arrives. A secret whose key does not
// match its certificate is rejected without a trace of the key in the
// NACK.
func TestTLSListenerWaitsForItsSecret(t *testing.T) {
	ca := testpki.NewCA(t, "test CA")
	cert, other := serverCert(t, ca, "a.example.com"), serverCert(t, ca, "b.example.com")
	roots := ca.Pool()
	e := newEnv(t)
	base := standard(t)
	e.start(t, base...)

	withTLS := append(base, httpsListener(t, port2, tlsChain{secret: "ns/cert"}),
		xdstest.RouteConfig(port2, xdstest.VirtualHost(port2, "", xdstest.PrefixRoute("all", "/", clusterName))))
	e.xds.Set(t, nodeID, "2", withTLS...)
	waitGauge(t, e, "listener_manager.total_listeners_warming", 1)

	mismatched := sdsSecret("ns/cert", cert)
	mismatched.GetTlsCertificate().PrivateKey.Specifier = &corev3.DataSource_InlineBytes{InlineBytes: other.keyPEM}
	e.xds.Set(t, nodeID, "3", append(withTLS, mismatched)...)
	nack := xdstest.WaitMessage(t, e.xds, "the secret's NACK", func(_ int, r *discoveryv3.DiscoveryRequest) bool {
		return r.GetTypeUrl() == resource.SecretType && r.GetErrorDetail() != nil
	})
	msg := nack.GetErrorDetail().GetMessage()
	if !strings.Contains(msg, "private key does not match public key") {
		t.Errorf("NACK %q does not say what is wrong", msg)
	}
	keyBody := strings.Join(strings.Split(string(other.keyPEM), "\n")[1:3], "")
	if strings.Contains(msg, "PRIVATE KEY") || strings.Contains(strings.ReplaceAll(msg, "\n", ""), keyBody[:16]) {
		t.Errorf("NACK carries key material: %q", msg)
	}
	waitGauge(t, e, "listener_manager.total_listeners_warming", 1)

	e.xds.Set(t, nodeID, "4", append(withTLS, sdsSecret("ns/cert", cert))...)
	waitGauge(t, e, "listener_manager.total_listeners_warming", 0)
	got, err := e.doTLS(t, port2, "a.example.com", roots)
	if err != nil || got.status != http.StatusOK {
		t.Fatalf("after the secret came: status %d, error %v", got.status, err)
	}
}

func waitGauge(t *testing.T, e *env, name string, want uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got uint64
		for _, s := range e.proxy.Stats() {
			if s.Name == name {
				got = s.Value
			}
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d, want %d", name, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
