package translate

import (
	"fmt"
	"testing"

	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkTranslate translates the seed's Gateway and route under a
// Gateway policy whose secretSelector picks every key Secret.
//
//	go test ./controller/translate/ -run '^$' -bench BenchmarkTranslate -benchmem
func BenchmarkTranslate(b *testing.B) {
	for _, bc := range []struct {
		name                   string
		secrets, keysPerSecret int
	}{
		{"1key", 1, 1},
		{"1k_keys_100_secrets", 100, 10},
		{"10k_keys_1k_secrets", 1000, 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := benchInputs(b, bc.secrets, bc.keysPerSecret)
			out := Translate(in)
			if got := credentialCount(b, out); got != bc.secrets*bc.keysPerSecret {
				b.Fatalf("translated %d credentials, want %d", got, bc.secrets*bc.keysPerSecret)
			}
			b.ReportAllocs()
			for b.Loop() {
				Translate(in)
			}
		})
	}
}

// benchInputs is the seed environment with a selector policy and the given
// number of labelled key Secrets.
func benchInputs(b *testing.B, secrets, keysPerSecret int) Inputs {
	b.Helper()
	in := loadCase(b, goldenCase{name: "seed-label-selector"})
	in.Secrets = nil
	for s := range secrets {
		data := make(map[string][]byte, keysPerSecret)
		for k := range keysPerSecret {
			data[fmt.Sprintf("client-%04d-%02d", s, k)] = fmt.Appendf(nil, "key-%04d-%02d-5f0c9a7e1b2d4c6f8a0e", s, k)
		}
		in.Secrets = append(in.Secrets, corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name:      fmt.Sprintf("keys-%04d", s),
				Namespace: "kgateway-system",
				Labels:    map[string]string{"app": "httpbin"},
			},
			Data: data,
		})
	}
	if len(in.TrafficPolicies) != 1 || in.TrafficPolicies[0].Spec.APIKeyAuth.SecretSelector == nil {
		b.Fatal("seed-label-selector no longer has one selector policy")
	}
	return in
}

func credentialCount(b *testing.B, out Output) int {
	b.Helper()
	if len(out.Proxies) != 1 || len(out.Proxies[0].Routes) != 1 {
		b.Fatal("want one proxy with one RouteConfiguration")
	}
	a := out.Proxies[0].Routes[0].GetTypedPerFilterConfig()[apiKeyAuthFilterName]
	m, err := a.UnmarshalNew()
	if err != nil {
		b.Fatal(err)
	}
	cfg, ok := m.(*apikeyauthv3.ApiKeyAuthPerRoute)
	if !ok {
		b.Fatalf("Gateway-level config is %s", a.GetTypeUrl())
	}
	return len(cfg.GetCredentials())
}
