package harness

import (
	"testing"
	"time"
)

func TestSummarizeConsistency(t *testing.T) {
	ms := time.Millisecond
	var samples []ConsistencySample
	for i := 1; i <= 10; i++ {
		samples = append(samples, ConsistencySample{Mutation: "update Secret", Latency: time.Duration(i) * 10 * ms})
	}
	samples = append(samples, ConsistencySample{Mutation: "setup", Latency: 500 * ms})
	got := SummarizeConsistency(samples)
	want := []MutationStats{
		{Mutation: "setup", Count: 1, Median: 500 * ms, P90: 500 * ms, Max: 500 * ms},
		{Mutation: "update Secret", Count: 10, Median: 50 * ms, P90: 90 * ms, Max: 100 * ms},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("stats[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}
