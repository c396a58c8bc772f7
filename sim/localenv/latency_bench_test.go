package localenv

import (
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// BenchmarkPolicyToEnforcement measures what a user waits for after
// `kubectl apply` of a TrafficPolicy: API server write, watch, controller
// translation, xDS push and data plane swap, until the gateway answers 401.
// Reported as ms-to-401 (create) and ms-to-200 (delete).
func BenchmarkPolicyToEnforcement(b *testing.B) {
	env := startEnv(b, Options{SampleApp: true})
	gw := newGatewayClient(b, env)
	ctx := b.Context()
	c := env.Client()
	gw.eventually(b, "sample app up", request{path: "/headers"}, expect{status: 200})
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kgateway-system", Name: "apikey"},
		StringData: map[string]string{"api-key": seedKey},
	}
	if err := c.Create(ctx, secret); err != nil {
		b.Fatal(err)
	}

	var toDeny, toAllow time.Duration
	for i := 0; b.Loop(); i++ {
		policy := &v1alpha1.TrafficPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: "kgateway-system", Name: "apikey-auth"},
			Spec: v1alpha1.TrafficPolicySpec{
				TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{
					LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Group: gwv1.GroupName, Kind: "Gateway", Name: "http"},
				}},
				APIKeyAuth: &v1alpha1.APIKeyAuth{SecretRef: &gwv1.SecretObjectReference{Name: "apikey"}},
			},
		}
		start := time.Now()
		if err := c.Create(ctx, policy); err != nil {
			b.Fatal(err)
		}
		gw.waitStatus(b, http.StatusUnauthorized)
		toDeny += time.Since(start)

		start = time.Now()
		if err := c.Delete(ctx, policy); err != nil {
			b.Fatal(err)
		}
		gw.waitStatus(b, http.StatusOK)
		toAllow += time.Since(start)
	}
	b.ReportMetric(float64(toDeny.Milliseconds())/float64(b.N), "ms-to-401")
	b.ReportMetric(float64(toAllow.Milliseconds())/float64(b.N), "ms-to-200")
}

// waitStatus polls /headers without a key every millisecond until status.
func (g *gatewayClient) waitStatus(b *testing.B, status int) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.check(request{path: "/headers"}, expect{status: status}) != "" {
		if time.Now().After(deadline) {
			b.Fatalf("gateway never answered %d", status)
		}
		time.Sleep(time.Millisecond)
	}
}
