package envoybootstrap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	rawbufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/raw_buffer/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/keyconform/keyconform/internal/testpki"
)

// handshake runs a TLS handshake from client to a server on 127.0.0.1
// presenting server and asking for a client certificate of clientCA. It
// returns whether the server got a client certificate, and the client's
// error or else the server's.
func handshake(t *testing.T, client *tls.Config, server tls.Certificate, clientCA *testpki.CA) (bool, error) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.Cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{server},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		sawClient bool
		err       error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer conn.Close()
		tc := conn.(*tls.Conn)
		_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
		err = tc.Handshake()
		done <- result{sawClient: len(tc.ConnectionState().PeerCertificates) > 0, err: err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: client.Clone()}
	conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		<-done
		return false, err
	}
	defer conn.Close()
	r := <-done
	return r.sawClient, r.err
}

// tlsBootstrap is a bootstrap whose ADS cluster has transport socket ts.
func tlsBootstrap(t *testing.T, ts proto.Message, secrets ...*tlsv3.Secret) files {
	t.Helper()
	var socket *corev3.TransportSocket
	if ts != nil {
		a, err := anypb.New(ts)
		if err != nil {
			t.Fatal(err)
		}
		socket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}
	}
	ads := &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3, ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
	b := &bootstrapv3.Bootstrap{
		Node: &corev3.Node{Id: "n", Cluster: "c"},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType:             corev3.ApiConfigSource_GRPC,
				TransportApiVersion: corev3.ApiVersion_V3,
				GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
					EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "xds"},
				}}},
			},
			LdsConfig: ads,
			CdsConfig: ads,
		},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Clusters: []*clusterv3.Cluster{{
				Name:                 "xds",
				ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
				LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: "xds", Endpoints: []*endpointv3.LocalityLbEndpoints{{
					LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
						Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
							Address: "10.96.0.10", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 18000},
						}}},
					}}}},
				}}},
				Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
				TransportSocket:      socket,
			}},
			Secrets: secrets,
		},
	}
	j, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return files{"/b.json": j}
}

func inline(b []byte) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: b}}
}

func dnsSAN(name string) []*tlsv3.SubjectAltNameMatcher {
	return []*tlsv3.SubjectAltNameMatcher{{
		SanType: tlsv3.SubjectAltNameMatcher_DNS,
		Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: name}},
	}}
}

// Envoy verifies what its validation context asks for, and no more: no
// context, no verification; a trusted CA, the chain but not the name.
func TestADSTLSVerification(t *testing.T) {
	ca, other := testpki.NewCA(t, "ca"), testpki.NewCA(t, "other")
	clientCert, clientKey := ca.Issue(t, x509.ExtKeyUsageClientAuth, "client")
	withCA := &tlsv3.CertificateValidationContext{TrustedCa: inline(ca.PEM)}
	for _, tc := range []struct {
		name    string
		ts      proto.Message
		secrets []*tlsv3.Secret
		server  tls.Certificate
		wantErr string // "" accepts the server
		client  bool   // the server gets a client certificate
	}{{
		name:   "no common_tls_context: any server",
		ts:     &tlsv3.UpstreamTlsContext{},
		server: other.ServerCert(t, "whatever"),
	}, {
		name:   "no validation context: any server",
		ts:     &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{}},
		server: other.ServerCert(t, "whatever"),
	}, {
		name:   "trusted_ca: a server of the CA, whatever its name",
		ts:     &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: withCA}}},
		server: ca.ServerCert(t, "not-the-dialled-host"),
	}, {
		name:    "trusted_ca: not a server of another CA",
		ts:      &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: withCA}}},
		server:  other.ServerCert(t, "x"),
		wantErr: "not trusted",
	}, {
		name: "inline client certificate is presented",
		ts: &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
			TlsCertificates:       []*tlsv3.TlsCertificate{{CertificateChain: inline(clientCert), PrivateKey: inline(clientKey)}},
			ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: withCA},
		}},
		server: ca.ServerCert(t, "x"),
		client: true,
	}, {
		name: "static secret named by validation_context_sds_secret_config",
		ts: &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
			ValidationContextType: &tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig{
				ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: "validation_context_sds"},
			},
		}},
		secrets: []*tlsv3.Secret{{Name: "validation_context_sds", Type: &tlsv3.Secret_ValidationContext{ValidationContext: withCA}}},
		server:  other.ServerCert(t, "x"),
		wantErr: "not trusted",
	}, {
		name: "combined: SAN matchers of the default, CA of the secret",
		ts: &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
			ValidationContextType: &tlsv3.CommonTlsContext_CombinedValidationContext{
				CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
					DefaultValidationContext:         &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: dnsSAN("xds.example")},
					ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: "ca"},
				},
			},
		}},
		secrets: []*tlsv3.Secret{{Name: "ca", Type: &tlsv3.Secret_ValidationContext{ValidationContext: withCA}}},
		server:  ca.ServerCert(t, "other.example"),
		wantErr: "subject alt names",
	}, {
		name: "wildcard certificate matches an exact DNS matcher",
		ts: &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{
			ValidationContext: &tlsv3.CertificateValidationContext{TrustedCa: inline(ca.PEM), MatchTypedSubjectAltNames: dnsSAN("xds.example.com")},
		}}},
		server: ca.ServerCert(t, "*.example.com"),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(Args{ConfigPath: "/b.json"}, tlsBootstrap(t, tc.ts, tc.secrets...).read)
			if err != nil {
				t.Fatal(err)
			}
			if c.ADS.TLS == nil {
				t.Fatal("ADS.TLS is nil")
			}
			sawClient, err := handshake(t, c.ADS.TLS, tc.server, ca)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("handshake: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("handshake error %v, want one containing %q", err, tc.wantErr)
			}
			if tc.wantErr == "" && sawClient != tc.client {
				t.Errorf("server got a client certificate: %v, want %v", sawClient, tc.client)
			}
		})
	}
}

func TestADSPlaintextTransportSockets(t *testing.T) {
	for name, ts := range map[string]proto.Message{"none": nil, "raw_buffer": &rawbufferv3.RawBuffer{}} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(Args{ConfigPath: "/b.json"}, tlsBootstrap(t, ts).read)
			if err != nil {
				t.Fatal(err)
			}
			if c.ADS.TLS != nil || c.ADS.Address != "10.96.0.10:18000" {
				t.Errorf("ADS = %+v", c.ADS)
			}
		})
	}
}

func TestDNSNameMatch(t *testing.T) {
	for _, tc := range []struct {
		name, pattern string
		want          bool
	}{
		{"envoy-gateway", "envoy-gateway", true},
		{"Envoy-Gateway", "envoy-gateway", true},
		{"api.example.com", "*.example.com", true},
		{"api.example.com", "a*.example.com", true},
		{"api.example.com", "*i.example.com", true},
		{"api.example.com", "b*.example.com", false},
		{"a.api.example.com", "*.example.com", false},
		{"example.com", "*.example.com", false},
		{"api.example.com", "*.*.com", false},
		{"api.example.com", "xn--*.example.com", false},
		{"api.example.com", "api.example.org", false},
	} {
		if got := dnsNameMatch(tc.name, tc.pattern); got != tc.want {
			t.Errorf("dnsNameMatch(%q, %q) = %v, want %v", tc.name, tc.pattern, got, tc.want)
		}
	}
}

// Fields accepted without effect are listed under their full path, inside
// SDS files too.
func TestADSTLSIgnoredPaths(t *testing.T) {
	ca := testpki.NewCA(t, "ca")
	ts := &tlsv3.UpstreamTlsContext{
		MaxSessionKeys: wrapperspb.UInt32(4),
		CommonTlsContext: &tlsv3.CommonTlsContext{
			ValidationContextType: &tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig{
				ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: "ca", SdsConfig: &corev3.ConfigSource{
					ResourceApiVersion:  corev3.ApiVersion_V3,
					InitialFetchTimeout: durationpb.New(time.Second),
					ConfigSourceSpecifier: &corev3.ConfigSource_PathConfigSource{PathConfigSource: &corev3.PathConfigSource{
						Path: "/sds/ca.yaml", WatchedDirectory: &corev3.WatchedDirectory{Path: "/sds"},
					}},
				}},
			},
		},
	}
	fsys := tlsBootstrap(t, ts)
	fsys["/certs/ca.crt"] = ca.PEM
	fsys["/sds/ca.yaml"] = []byte(`resources:
- "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret
  name: ca
  validation_context:
    trusted_ca: {filename: /certs/ca.crt}
    watched_directory: {path: /certs}
`)
	c, err := Load(Args{ConfigPath: "/b.json"}, fsys.read)
	if err != nil {
		t.Fatal(err)
	}
	const tlsPath = "static_resources.clusters[0].transport_socket.typed_config"
	checkIgnored(t, c.Ignored,
		tlsPath+".max_session_keys",
		tlsPath+".common_tls_context.validation_context_sds_secret_config.sds_config.initial_fetch_timeout",
		tlsPath+".common_tls_context.validation_context_sds_secret_config.sds_config.path_config_source.watched_directory",
		"SDS file /sds/ca.yaml: resources[0].validation_context.watched_directory",
	)
	if _, err := handshake(t, c.ADS.TLS, testpki.NewCA(t, "other").ServerCert(t, "x"), ca); err == nil {
		t.Error("a server of another CA was accepted")
	}
}
