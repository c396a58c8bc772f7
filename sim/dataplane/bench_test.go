package dataplane_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/internal/xdstest"
	"github.com/keyconform/keyconform/sim/apikeyauth"
)

// BenchmarkThroughput measures requests/s over loopback HTTP/1.1 keep-alive
// connections (16 concurrent clients) to go-httpbin's /status/200:
// straight to the backend, through a plain httputil.ReverseProxy, and
// through the sim with api_key_auth off, on with 1 key and on with 10,000.
//
//	go test ./sim/dataplane -run '^$' -bench Throughput -benchtime 3s -count 3
func BenchmarkThroughput(b *testing.B) {
	for _, c := range benchTargets(b) {
		b.Run(c.name, func(b *testing.B) {
			b.SetParallelism(8)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.get(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}

// BenchmarkThroughputRatios interleaves the targets in rounds of 2,000
// requests each (16 concurrent clients) and reports the median requests/s of
// each and the goal ratios, which stay meaningful on a shared, noisy machine
// where back-to-back sub-benchmarks do not.
//
//	go test ./sim/dataplane -run '^$' -bench ThroughputRatios -benchtime 10x
func BenchmarkThroughputRatios(b *testing.B) {
	targets := benchTargets(b)
	rates := map[string][]float64{}
	b.ResetTimer()
	for range b.N {
		for _, c := range targets {
			rates[c.name] = append(rates[c.name], c.rate(b, 2000, 16))
		}
	}
	med := map[string]float64{}
	for name, rs := range rates {
		slices.Sort(rs)
		med[name] = rs[len(rs)/2]
		b.ReportMetric(med[name], name+"-req/s")
	}
	b.ReportMetric(med["sim-auth-on-1key"]/med["reverseproxy"], "authon/reverseproxy")
	b.ReportMetric(med["sim-auth-on-10kkeys"]/med["sim-auth-on-1key"], "10kkeys/1key")
	b.ReportMetric(med["sim-auth-on-1key"]/med["sim-auth-off"], "authon/authoff")
	b.ReportMetric(med["sim-auth-off"]/med["backend-direct"], "sim/backend")
}

type benchTarget struct {
	name, addr, host, key string
	client                *http.Client
}

func (c benchTarget) get() error {
	req, _ := http.NewRequest(http.MethodGet, "http://"+c.addr+"/status/200", nil)
	if c.host != "" {
		req.Host = c.host
	}
	if c.key != "" {
		req.Header.Set("api-key", c.key)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: status %d", c.name, resp.StatusCode)
	}
	return nil
}

// rate sends n requests from workers goroutines and returns requests/s.
func (c benchTarget) rate(b *testing.B, n, workers int) float64 {
	var wg sync.WaitGroup
	var next atomic.Int64
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := c.get(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// benchTargets starts the sim (virtual hosts "off", "one" with 1 key,
// "tenk" with 10,000 keys), go-httpbin and a plain ReverseProxy.
func benchTargets(b *testing.B) []benchTarget {
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
	b.Cleanup(plain.Close)

	client := func() *http.Client {
		return &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	}
	return []benchTarget{
		{"backend-direct", backend, "", "", client()},
		{"reverseproxy", plain.Listener.Addr().String(), "", "", client()},
		{"sim-auth-off", sim, "off", "", client()},
		{"sim-auth-on-1key", sim, "one", "key-00000-0123456789abcdef", client()},
		{"sim-auth-on-10kkeys", sim, "tenk", "key-04321-0123456789abcdef", client()},
	}
}
