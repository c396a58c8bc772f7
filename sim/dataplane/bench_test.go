package dataplane_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/sim/apikeyauth"
	"github.com/keyconform/keyconform/sim/internal/xdstest"
)

// BenchmarkThroughput measures requests/s over loopback HTTP/1.1 keep-alive
// connections (16 concurrent clients) to go-httpbin's /status/200:
// straight to the backend, through a plain httputil.ReverseProxy, and
// through the sim with api_key_auth off, on with 1 key and on with 10,000.
//
//	go test ./sim/dataplane -run '^$' -bench Throughput -benchtime 3s -count 3
func BenchmarkThroughput(b *testing.B) {
	e := newEnv(b)
	backend, _ := e.network.Lookup(podAddr)

	keys := func(n int) *anypb.Any {
		cfg := &apikeyv3.ApiKeyAuthPerRoute{KeySources: []*apikeyv3.KeySource{{Header: "api-key"}}}
		for i := range n {
			cfg.Credentials = append(cfg.Credentials, &apikeyv3.Credential{Client: fmt.Sprintf("client%05d", i), Key: fmt.Sprintf("key-%05d-%s", i, "0123456789abcdef")})
		}
		return xdstest.Any(b, cfg)
	}
	withAuth := func(host string, cfg *anypb.Any) *routev3.VirtualHost {
		r := xdstest.PrefixRoute("all", "/", clusterName)
		if cfg != nil {
			r.TypedPerFilterConfig = map[string]*anypb.Any{apikeyauth.FilterName: cfg}
		}
		return xdstest.VirtualHost(port, host, r)
	}
	e.start(b, standard(b, withAuth("off", nil), withAuth("one", keys(1)), withAuth("tenk", keys(10000)))...)
	sim, _ := e.proxy.ListenerAddr(port)

	target, _ := url.Parse("http://" + backend)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 256}
	plain := httptest.NewServer(rp)
	defer plain.Close()

	cases := []struct {
		name, addr, host, key string
	}{
		{"backend-direct", backend, "", ""},
		{"reverseproxy", plain.Listener.Addr().String(), "", ""},
		{"sim-auth-off", sim, "off", ""},
		{"sim-auth-on-1key", sim, "one", "key-00000-0123456789abcdef"},
		{"sim-auth-on-10kkeys", sim, "tenk", "key-04321-0123456789abcdef"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
			b.SetParallelism(8)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, "http://"+c.addr+"/status/200", nil)
					if c.host != "" {
						req.Host = c.host
					}
					if c.key != "" {
						req.Header.Set("api-key", c.key)
					}
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
