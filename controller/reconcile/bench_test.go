package reconcile

import (
	"context"
	"fmt"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// debounces are the settings the benchmarks compare; DefaultDebounce is
// chosen from their results.
var debounces = []time.Duration{-1, 10 * time.Millisecond, DefaultDebounce, 100 * time.Millisecond}

func debounceName(d time.Duration) string {
	if d < 0 {
		return "debounce=none"
	}
	return "debounce=" + d.String()
}

// BenchmarkSecretUpdateToSnapshot measures one key rotation: from the
// Secret update's return to the new key reaching a data plane over ADS.
func BenchmarkSecretUpdateToSnapshot(b *testing.B) {
	for _, d := range debounces {
		b.Run(debounceName(d), func(b *testing.B) {
			cut := startController(b, d)
			c := apiServers.Client(b, AddToScheme)
			a := newApp("bench-rotate")
			ads := dialXDS(b, cut, a.nodeID())
			secret := a.secret("apikey", nil, map[string]string{"client1": "k-bench-start"})
			create(b, c, a.objects()...)
			create(b, c, secret, a.routePolicy("apikey-auth", v1alpha1.APIKeyAuth{SecretRef: &gwv1.SecretObjectReference{Name: "apikey"}}))
			waitRoute(b, ads, "initial key", hasKey(b, "k-bench-start"))

			before := testutil.ToFloat64(translationsTotal)
			b.ResetTimer()
			for i := range b.N {
				key := fmt.Sprintf("k-bench-%d", i)
				secret.StringData = map[string]string{"client1": key}
				if err := c.Update(context.Background(), secret); err != nil {
					b.Fatal(err)
				}
				waitRoute(b, ads, "rotated key", hasKey(b, key))
			}
			b.StopTimer()
			b.ReportMetric((testutil.ToFloat64(translationsTotal)-before)/float64(b.N), "translations/op")
		})
	}
}

// BenchmarkBurstToSnapshot measures a burst: 20 Secrets created back to
// back, all selected by one policy, until all 20 clients reach the data
// plane; translations/op says how well the burst was batched.
func BenchmarkBurstToSnapshot(b *testing.B) {
	const burst = 20
	for _, d := range debounces {
		b.Run(debounceName(d), func(b *testing.B) {
			cut := startController(b, d)
			c := apiServers.Client(b, AddToScheme)
			a := newApp("bench-burst")
			ads := dialXDS(b, cut, a.nodeID())
			labels := map[string]string{"burst": "yes"}
			create(b, c, a.objects()...)
			create(b, c,
				a.secret("seed", labels, map[string]string{"seed": "k-seed"}),
				a.routePolicy("apikey-auth", v1alpha1.APIKeyAuth{SecretSelector: &v1alpha1.LabelSelector{MatchLabels: labels}}))
			waitRoute(b, ads, "seed key", hasCount(b, 1))

			before := testutil.ToFloat64(translationsTotal)
			b.ResetTimer()
			for i := range b.N {
				secrets := make([]client.Object, burst)
				for j := range secrets {
					secrets[j] = a.secret(fmt.Sprintf("s-%d-%d", i, j), labels, map[string]string{fmt.Sprintf("c-%d-%d", i, j): fmt.Sprintf("k-%d-%d", i, j)})
				}
				create(b, c, secrets...)
				waitRoute(b, ads, "burst", hasCount(b, 1+burst*(i+1)))
			}
			b.StopTimer()
			b.ReportMetric((testutil.ToFloat64(translationsTotal)-before)/float64(b.N), "translations/op")
		})
	}
}

func hasKey(t testing.TB, key string) func(*routev3.RouteConfiguration) error {
	return func(rc *routev3.RouteConfiguration) error {
		for _, k := range credentials(t, rc) {
			if k == key {
				return nil
			}
		}
		return fmt.Errorf("key not served yet")
	}
}

func hasCount(t testing.TB, n int) func(*routev3.RouteConfiguration) error {
	return func(rc *routev3.RouteConfiguration) error {
		if got := len(credentials(t, rc)); got != n {
			return fmt.Errorf("%d credentials, want %d", got, n)
		}
		return nil
	}
}
