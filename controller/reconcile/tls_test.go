package reconcile

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/internal/testpki"
)

// listenerCondition checks one condition of one listener of a Gateway.
func listenerCondition(c client.Client, gw types.NamespacedName, listener, typ string, status metav1.ConditionStatus, reason string) error {
	g := &gwv1.Gateway{}
	if err := c.Get(context.Background(), gw, g); err != nil {
		return err
	}
	for _, l := range g.Status.Listeners {
		if string(l.Name) == listener {
			return conditionIs(l.Conditions, typ, status, reason)
		}
	}
	return fmt.Errorf("no status for listener %s in %+v", listener, g.Status.Listeners)
}

// TestGatewayCertificateSecretIsWatched: the Secret an HTTPS listener
// names is an input like an API key Secret: creating it programs the
// listener, spoiling it unprograms it, and its private key is never
// logged.
func TestGatewayCertificateSecretIsWatched(t *testing.T) {
	cut := startController(t, DefaultDebounce)
	c := apiServers.Client(t, AddToScheme)
	ctx := context.Background()
	a := newApp("tls")
	objs := a.objects()
	for _, o := range objs {
		if gw, ok := o.(*gwv1.Gateway); ok {
			gw.Spec.Listeners = append(gw.Spec.Listeners, gwv1.Listener{
				Name: "https", Protocol: gwv1.HTTPSProtocolType, Port: 8443,
				TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "cert"}}},
			})
		}
	}
	create(t, c, objs...)
	gw := types.NamespacedName{Namespace: a.ns, Name: "http"}

	eventually(t, "listener https waiting for its Secret", func() error {
		return listenerCondition(c, gw, "https", "ResolvedRefs", "False", string(gwv1.ListenerReasonInvalidCertificateRef))
	})

	chain, key := testpki.NewCA(t, "reconcile-test").Issue(t, x509.ExtKeyUsageServerAuth, "www.example.com")
	secret := &corev1.Secret{
		ObjectMeta: a.meta("cert"),
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: chain, corev1.TLSPrivateKeyKey: key},
	}
	create(t, c, secret)
	eventually(t, "listener https programmed once its Secret exists", func() error {
		if err := listenerCondition(c, gw, "https", "ResolvedRefs", "True", string(gwv1.ListenerReasonResolvedRefs)); err != nil {
			return err
		}
		return listenerCondition(c, gw, "https", "Programmed", "True", string(gwv1.ListenerReasonProgrammed))
	})

	_, otherKey := testpki.NewCA(t, "reconcile-test-other").Issue(t, x509.ExtKeyUsageServerAuth, "www.example.com")
	secret.Data[corev1.TLSPrivateKeyKey] = otherKey
	if err := c.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	eventually(t, "listener https unprogrammed once its key no longer matches", func() error {
		return listenerCondition(c, gw, "https", "Programmed", "False", string(gwv1.ListenerReasonInvalid))
	})

	var lines []string
	for _, k := range [][]byte{key, otherKey} {
		for l := range strings.Lines(string(k)) {
			if l = strings.TrimSpace(l); len(l) >= 16 && !strings.HasPrefix(l, "-----") {
				lines = append(lines, l)
			}
		}
	}
	assertNoKeysLogged(t, cut, lines...)
}
