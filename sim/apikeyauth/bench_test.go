package apikeyauth

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
)

// BenchmarkCheck measures one allowed request with 1 and with 10k keys: the
// key->client map makes the two cost the same.
//
//	go test -run='^$' -bench=BenchmarkCheck -benchmem -count=5 ./sim/apikeyauth/
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		key := fmt.Sprintf("k-%032d", n-1) // the last one configured
		for _, src := range []struct {
			name   string
			source *apikeyv3.KeySource
			req    *http.Request
		}{
			{"header", &apikeyv3.KeySource{Header: "Authorization"}, &http.Request{
				URL: &url.URL{Path: "/get"}, Header: http.Header{"Authorization": {"Bearer " + key}, "Accept": {"*/*"}}}},
			{"query", &apikeyv3.KeySource{Query: "api_key"}, &http.Request{
				URL: &url.URL{Path: "/get", RawQuery: "a=1&api_key=" + key + "&b=2"}, Header: http.Header{"Accept": {"*/*"}}}},
		} {
			b.Run(fmt.Sprintf("keys=%d/source=%s", n, src.name), func(b *testing.B) {
				cfg := benchConfig(b, n, src.source)
				b.ReportAllocs()
				for b.Loop() {
					if !Check(cfg, src.req).Allowed {
						b.Fatal("denied")
					}
				}
			})
		}
	}
}

func benchConfig(b *testing.B, n int, source *apikeyv3.KeySource) *Config {
	b.Helper()
	creds := make([]*apikeyv3.Credential, n)
	for i := range creds {
		creds[i] = &apikeyv3.Credential{Key: fmt.Sprintf("k-%032d", i), Client: fmt.Sprintf("client-%d", i)}
	}
	cfg, err := Compile(&apikeyv3.ApiKeyAuth{
		Credentials: creds,
		KeySources:  []*apikeyv3.KeySource{source},
		Forwarding:  &apikeyv3.Forwarding{Header: "x-client-id"},
	})
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}
