package apikeyauth

import (
	"sync"
	"testing"
)

// TestCountersRecord follows ApiKeyAuthFilter::onDenied: a 401 counts as
// unauthorized, any other denial as forbidden.
func TestCountersRecord(t *testing.T) {
	var c Counters
	decisions := []Decision{allowed("u"), missingAPIKey, unknownAPIKey, notAllowed, missingSources, allowed("v")}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for _, d := range decisions {
				c.Record(d)
			}
		})
	}
	wg.Wait()
	if got := [3]uint64{c.Allowed.Load(), c.Unauthorized.Load(), c.Forbidden.Load()}; got != [3]uint64{20, 30, 10} {
		t.Errorf("allowed/unauthorized/forbidden = %v, want [20 30 10]", got)
	}
}
