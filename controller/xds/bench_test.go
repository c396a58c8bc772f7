package xds

import (
	"context"
	"fmt"
	"testing"

	"github.com/keyconform/keyconform/controller/translate"
)

// BenchmarkPublish measures one publish of a proxy whose route carries n
// credentials, one key rotated each time: validation of every resource and
// packed message, canonical re-encoding, hashing, and the cache update.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 1000, 10000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s := NewServer(nil)
			f := newFixture("ns", "gw")
			f.credentials = make(map[string]string, n)
			for i := range n {
				f.credentials[fmt.Sprintf("client-%05d", i)] = fmt.Sprintf("key-%05d", i)
			}
			proxies := make([][]translate.Proxy, 2)
			for i := range proxies {
				f.credentials["client-00000"] = fmt.Sprintf("rotated-%d", i)
				proxies[i] = []translate.Proxy{f.proxy(b)}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := s.Publish(context.Background(), proxies[i%2]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
