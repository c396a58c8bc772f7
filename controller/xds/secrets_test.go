package xds

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"

	"github.com/keyconform/keyconform/controller/translate"
	"github.com/keyconform/keyconform/internal/logcapture"
	"github.com/keyconform/keyconform/internal/testpki"
	"github.com/keyconform/keyconform/internal/xdstest"
)

const secretName = "ns/example-cert"

// keypair is a fresh certificate and private key, PEM encoded.
func keypair(t *testing.T) (chain, key []byte) {
	t.Helper()
	return testpki.NewCA(t, "xds-test").Issue(t, x509.ExtKeyUsageServerAuth, "www.example.com")
}

// httpsProxy is f's proxy with its listener terminating TLS, as the
// translator shapes an HTTPS port: the certificate named over SDS, and
// served as a Secret holding chain and key.
func httpsProxy(t *testing.T, f proxyFixture, chain, key []byte) translate.Proxy {
	t.Helper()
	p := f.proxy(t)
	fc := p.Listeners[0].FilterChains[0]
	fc.Name = "https"
	fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: []string{"www.example.com"}}
	fc.TransportSocket = &corev3.TransportSocket{
		Name: "envoy.transport_sockets.tls",
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: xdstest.Any(t, &tlsv3.DownstreamTlsContext{
			CommonTlsContext: &tlsv3.CommonTlsContext{
				AlpnProtocols: []string{"http/1.1"},
				TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{
					Name:      secretName,
					SdsConfig: &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}},
				}},
			},
		})},
	}
	p.Secrets = []*tlsv3.Secret{{
		Name: secretName,
		Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: chain}},
			PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: key}},
		}},
	}}
	return p
}

func TestCertificateRotationBumpsOnlySecrets(t *testing.T) {
	s := NewServer(nil)
	f := newFixture("ns", "gw")
	chain, key := keypair(t)
	publish(t, s, httpsProxy(t, f, chain, key))
	snap, err := s.cache.GetSnapshot("ns/gw")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.GetResources(resource.SecretType)[secretName]; !ok {
		t.Fatalf("the snapshot does not serve Secret %s", secretName)
	}
	before := s.published["ns/gw"].versions

	chain, key = keypair(t)
	publish(t, s, httpsProxy(t, f, chain, key))
	after := s.published["ns/gw"].versions
	if after.secret == before.secret {
		t.Error("the Secrets' version did not change with the certificate")
	}
	after.secret = before.secret
	if after != before {
		t.Errorf("a new certificate changed other versions: %+v -> %+v", before, after)
	}
}

func TestSecretsMatchWhatListenersName(t *testing.T) {
	chain, key := keypair(t)
	for _, tc := range []struct {
		name   string
		break_ func(p *translate.Proxy)
		want   string
	}{
		{"named Secret missing", func(p *translate.Proxy) { p.Secrets = nil }, "listeners name Secret(s) ns/example-cert that the configuration lacks"},
		{"Secret named by no listener", func(p *translate.Proxy) { p.Secrets[0].Name = "ns/other" }, "no listener names Secret(s) ns/other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := httpsProxy(t, newFixture("ns", "gw"), chain, key)
			tc.break_(&p)
			err := NewServer(nil).Publish(context.Background(), []translate.Proxy{p})
			var pe *PublishError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want a PublishError saying %q, got %v", tc.want, err)
			}
		})
	}
}

// TestPrivateKeyNeverPrinted: a private key is as secret as an API key.
// Neither an error nor a log line may quote it, whole or a line of it,
// even when a data plane's NACK does.
func TestPrivateKeyNeverPrinted(t *testing.T) {
	chain, key := keypair(t)
	lines := strings.Split(strings.TrimSpace(string(key)), "\n")
	body := lines[1 : len(lines)-1] // without the PEM armour
	leaked := func(t *testing.T, what, text string) {
		t.Helper()
		for i, l := range body {
			// A short last line may occur in any text by chance.
			if len(l) >= minKeyFragment && strings.Contains(text, l) {
				t.Errorf("%s quotes line %d of the private key:\n%s", what, i+1, text)
			}
		}
	}

	t.Run("error", func(t *testing.T) {
		p := httpsProxy(t, newFixture("ns", "gw"), chain, key)
		p.Secrets[0].Name = body[0] // absurd, but any text an error repeats
		err := NewServer(nil).Publish(context.Background(), []translate.Proxy{p})
		if err == nil || !strings.Contains(err.Error(), redacted) {
			t.Fatalf("want an error with %s, got %v", redacted, err)
		}
		leaked(t, "the error", err.Error())
	})

	t.Run("NACK", func(t *testing.T) {
		logs := &logcapture.Buffer{}
		s := NewServer(slog.New(slog.NewJSONHandler(logs, nil)))
		publish(t, s, httpsProxy(t, newFixture("ns", "gw"), chain, key))
		if err := s.onStreamOpen(context.Background(), 1, ""); err != nil {
			t.Fatal(err)
		}
		err := s.onStreamRequest(1, &discoveryv3.DiscoveryRequest{
			Node:        &corev3.Node{Id: "ns/gw"},
			TypeUrl:     resource.SecretType,
			ErrorDetail: &status.Status{Message: "bad key " + string(key) + " or is it " + body[1] + "?"},
		})
		if err != nil {
			t.Fatal(err)
		}
		out := logs.String()
		if !strings.Contains(out, "xDS NACK") || !strings.Contains(out, redacted) {
			t.Fatalf("want a NACK logged with %s:\n%s", redacted, out)
		}
		leaked(t, "the logs", out)
	})
}
