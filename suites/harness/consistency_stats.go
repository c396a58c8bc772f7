package harness

import (
	"cmp"
	"slices"
	"time"
)

// MutationStats summarises the time to consistency of one kind of change
// across a run.
type MutationStats struct {
	Mutation string        `json:"mutation"`
	Count    int           `json:"count"`
	Median   time.Duration `json:"medianNanos"`
	P90      time.Duration `json:"p90Nanos"`
	Max      time.Duration `json:"maxNanos"`
}

// SummarizeConsistency groups samples by mutation, slowest maximum first.
func SummarizeConsistency(samples []ConsistencySample) []MutationStats {
	by := map[string][]time.Duration{}
	for _, s := range samples {
		by[s.Mutation] = append(by[s.Mutation], s.Latency)
	}
	out := make([]MutationStats, 0, len(by))
	for m, ls := range by {
		slices.Sort(ls)
		out = append(out, MutationStats{Mutation: m, Count: len(ls), Median: percentile(ls, 50), P90: percentile(ls, 90), Max: ls[len(ls)-1]})
	}
	slices.SortFunc(out, func(a, b MutationStats) int {
		return cmp.Or(cmp.Compare(b.Max, a.Max), cmp.Compare(a.Mutation, b.Mutation))
	})
	return out
}

// percentile of sorted values, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}
