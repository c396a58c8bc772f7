package translate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// testKeypair is the test certificate and key of the HTTPS golden cases.
func testKeypair(t *testing.T) (chain, key string) {
	t.Helper()
	in := loadCase(t, goldenCase{name: "https-same-namespace-secret"})
	for _, s := range in.Secrets {
		if s.Name == "example-cert" {
			return s.StringData[corev1.TLSCertKey], s.StringData[corev1.TLSPrivateKeyKey]
		}
	}
	t.Fatal("no Secret example-cert in https-same-namespace-secret")
	return "", ""
}

func tlsSecret(ns, name string, typ corev1.SecretType, data, stringData map[string]string) corev1.Secret {
	s := corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: typ, StringData: stringData}
	if data != nil {
		s.Data = map[string][]byte{}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
	}
	return s
}

func grant(ns string, fromKind gwv1.Kind, fromNS string, toName *gwv1.ObjectName) gwv1.ReferenceGrant {
	return gwv1.ReferenceGrant{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "grant"},
		Spec: gwv1.ReferenceGrantSpec{
			From: []gwv1.ReferenceGrantFrom{{Group: gatewayGroup, Kind: fromKind, Namespace: gwv1.Namespace(fromNS)}},
			To:   []gwv1.ReferenceGrantTo{{Group: coreGroup, Kind: kindSecret, Name: toName}},
		},
	}
}

// TestListenerCertificates covers what the golden cases leave out: where
// a Secret's entries are read from, which grants count, and which reason
// wins when several references fail.
func TestListenerCertificates(t *testing.T) {
	chain, key := testKeypair(t)
	pair := map[string]string{corev1.TLSCertKey: chain, corev1.TLSPrivateKeyKey: key}
	gw := types.NamespacedName{Namespace: "gw", Name: "edge"}
	ref := func(ns, name string) gwv1.SecretObjectReference {
		r := gwv1.SecretObjectReference{Name: gwv1.ObjectName(name)}
		if ns != "" {
			r.Namespace = new(gwv1.Namespace(ns))
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		secrets []corev1.Secret
		grants  []gwv1.ReferenceGrant
		refs    []gwv1.SecretObjectReference
		want    []string // secret names of the certificates
		reason  gwv1.ListenerConditionReason
		why     []string // substrings of the message
	}{
		{
			name:    "data, as the API server stores it",
			secrets: []corev1.Secret{tlsSecret("gw", "cert", corev1.SecretTypeTLS, pair, nil)},
			refs:    []gwv1.SecretObjectReference{ref("", "cert")},
			want:    []string{"gw/cert"},
		},
		{
			name: "stringData wins over data",
			secrets: []corev1.Secret{tlsSecret("gw", "cert", corev1.SecretTypeTLS,
				map[string]string{corev1.TLSCertKey: "stale", corev1.TLSPrivateKeyKey: "stale"}, pair)},
			refs: []gwv1.SecretObjectReference{ref("", "cert")},
			want: []string{"gw/cert"},
		},
		{
			name:    "an Opaque Secret with the two entries",
			secrets: []corev1.Secret{tlsSecret("gw", "cert", corev1.SecretTypeOpaque, pair, nil)},
			refs:    []gwv1.SecretObjectReference{ref("", "cert")},
			want:    []string{"gw/cert"},
		},
		{
			name: "certificate and key swapped",
			secrets: []corev1.Secret{tlsSecret("gw", "cert", corev1.SecretTypeTLS,
				map[string]string{corev1.TLSCertKey: key, corev1.TLSPrivateKeyKey: chain}, nil)},
			refs:   []gwv1.SecretObjectReference{ref("", "cert")},
			reason: gwv1.ListenerReasonInvalidCertificateRef,
			why:    []string{"Secret gw/cert: tls.crt and tls.key are not a PEM certificate chain and its private key"},
		},
		{
			name:    "a grant for every Secret of the namespace",
			secrets: []corev1.Secret{tlsSecret("certs", "cert", corev1.SecretTypeTLS, pair, nil)},
			grants:  []gwv1.ReferenceGrant{grant("certs", kindGateway, "gw", nil)},
			refs:    []gwv1.SecretObjectReference{ref("certs", "cert")},
			want:    []string{"certs/cert"},
		},
		{
			name:    "a grant to HTTPRoutes does not let Gateways in",
			secrets: []corev1.Secret{tlsSecret("certs", "cert", corev1.SecretTypeTLS, pair, nil)},
			grants:  []gwv1.ReferenceGrant{grant("certs", kindHTTPRoute, "gw", nil)},
			refs:    []gwv1.SecretObjectReference{ref("certs", "cert")},
			reason:  gwv1.ListenerReasonRefNotPermitted,
			why:     []string{"tls.certificateRefs[0]: core/Secret certs/cert is in another namespace"},
		},
		{
			name:    "a grant from the Gateway's namespace, not another",
			secrets: []corev1.Secret{tlsSecret("certs", "cert", corev1.SecretTypeTLS, pair, nil)},
			grants:  []gwv1.ReferenceGrant{grant("certs", kindGateway, "elsewhere", nil)},
			refs:    []gwv1.SecretObjectReference{ref("certs", "cert")},
			reason:  gwv1.ListenerReasonRefNotPermitted,
		},
		{
			name:    "several problems: the first one's reason, every message",
			secrets: []corev1.Secret{tlsSecret("certs", "cert", corev1.SecretTypeTLS, pair, nil)},
			refs:    []gwv1.SecretObjectReference{ref("", "missing"), ref("certs", "cert")},
			reason:  gwv1.ListenerReasonInvalidCertificateRef,
			why:     []string{"tls.certificateRefs[0]: Secret gw/missing not found", "tls.certificateRefs[1]: core/Secret certs/cert is in another namespace"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix := newIndex(&Inputs{Secrets: tc.secrets, ReferenceGrants: tc.grants})
			certs, bad := ix.listenerCertificates(gw, &gwv1.ListenerTLSConfig{CertificateRefs: tc.refs})
			var got []string
			for _, c := range certs {
				got = append(got, secretName(c.secret))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("certificates (-want +got):\n%s", diff)
			}
			if string(tc.reason) != bad.reason {
				t.Errorf("reason %q, want %q (message %q)", bad.reason, tc.reason, bad.message())
			}
			for _, w := range tc.why {
				if !strings.Contains(bad.message(), w) {
					t.Errorf("message %q lacks %q", bad.message(), w)
				}
			}
			if strings.Contains(bad.message(), "PRIVATE KEY") || strings.Contains(bad.message(), "CERTIFICATE-----") {
				t.Errorf("message quotes PEM data: %q", bad.message())
			}
		})
	}
}

// TestMarkConflicts: Gateway API lets no conflicting listener win, and a
// port cannot be served both in clear and over TLS.
func TestMarkConflicts(t *testing.T) {
	ix, gw := newIndex(&Inputs{}), &gatewayModel{key: keyOf("gw", "edge")}
	listener := func(name string, protocol gwv1.ProtocolType, port int32, hostname string) *listenerModel {
		spec := &gwv1.Listener{Name: gwv1.SectionName(name), Protocol: protocol, Port: gwv1.PortNumber(port)}
		if hostname != "" {
			spec.Hostname = new(gwv1.Hostname(hostname))
		}
		// Certificates do not matter to conflicts: these resolve to none.
		return newListener(ix, gw, spec)
	}
	for _, tc := range []struct {
		name      string
		listeners []*listenerModel
		want      map[string]gwv1.ListenerConditionReason // listener -> conflict reason
	}{
		{
			name: "distinct hostnames on one port",
			listeners: []*listenerModel{
				listener("a", gwv1.HTTPSProtocolType, 443, "a.example.com"),
				listener("b", gwv1.HTTPSProtocolType, 443, "*.example.com"),
				listener("c", gwv1.HTTPSProtocolType, 443, ""),
			},
			want: map[string]gwv1.ListenerConditionReason{},
		},
		{
			name: "one hostname on two protocols' ports",
			listeners: []*listenerModel{
				listener("http", gwv1.HTTPProtocolType, 80, "a.example.com"),
				listener("https", gwv1.HTTPSProtocolType, 443, "a.example.com"),
			},
			want: map[string]gwv1.ListenerConditionReason{},
		},
		{
			name: "two protocols on one port: all of them, whatever the hostnames",
			listeners: []*listenerModel{
				listener("http", gwv1.HTTPProtocolType, 8443, ""),
				listener("https-a", gwv1.HTTPSProtocolType, 8443, "a.example.com"),
				listener("https-b", gwv1.HTTPSProtocolType, 8443, "b.example.com"),
			},
			want: map[string]gwv1.ListenerConditionReason{
				"http": gwv1.ListenerReasonProtocolConflict, "https-a": gwv1.ListenerReasonProtocolConflict, "https-b": gwv1.ListenerReasonProtocolConflict,
			},
		},
		{
			name: "no hostname twice",
			listeners: []*listenerModel{
				listener("a", gwv1.HTTPSProtocolType, 443, ""),
				listener("b", gwv1.HTTPSProtocolType, 443, ""),
				listener("c", gwv1.HTTPSProtocolType, 443, "c.example.com"),
			},
			want: map[string]gwv1.ListenerConditionReason{"a": gwv1.ListenerReasonHostnameConflict, "b": gwv1.ListenerReasonHostnameConflict},
		},
		{
			name: "a listener not accepted conflicts with none",
			listeners: []*listenerModel{
				listener("tcp", gwv1.TCPProtocolType, 443, ""),
				listener("https", gwv1.HTTPSProtocolType, 443, ""),
			},
			want: map[string]gwv1.ListenerConditionReason{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			markConflicts(tc.listeners)
			got := map[string]gwv1.ListenerConditionReason{}
			for _, l := range tc.listeners {
				if l.conflict != "" {
					got[l.name] = l.conflictReason
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("conflicts (-want +got):\n%s", diff)
			}
		})
	}
}
