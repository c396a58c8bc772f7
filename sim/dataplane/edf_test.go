package dataplane

import (
	"fmt"
	"slices"
	"testing"
)

func edfPicks(s *edfScheduler, weights []float64, n int) []int {
	var out []int
	for range n {
		i, ok := s.pickAndAdd(func(i int) float64 { return weights[i] })
		if !ok {
			return out
		}
		out = append(out, i)
	}
	return out
}

// EdfScheduler (edf_scheduler.h): entries picked by earliest deadline
// current time + 1/weight, ties in insertion order.
func TestEDFSchedule(t *testing.T) {
	tests := []struct {
		weights []float64
		want    []int
	}{
		// Deadlines 1/3, 2/3 for 1; 1 ties between 0 (inserted first) and 1.
		{[]float64{1, 3}, []int{1, 1, 0, 1, 1, 1, 0, 1}},
		// 0 at 1/2, then 0 (re-added) and 1 tie at 1: 1 was inserted first.
		{[]float64{2, 1}, []int{0, 1, 0, 0, 1, 0}},
		{[]float64{1, 1, 1}, []int{0, 1, 2, 0, 1, 2}},
		{[]float64{5}, []int{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.weights), func(t *testing.T) {
			s := newEDFWithPicks(len(tt.weights), func(i int) float64 { return tt.weights[i] }, 0)
			if got := edfPicks(s, tt.weights, len(tt.want)); !slices.Equal(got, tt.want) {
				t.Errorf("picks %v, want %v", got, tt.want)
			}
		})
	}
	if _, ok := newEDFWithPicks(0, nil, 7).pickAndAdd(nil); ok {
		t.Error("an empty scheduler picked something")
	}
}

// EdfScheduler::createWithPicks starts the schedule where picks picks from
// an empty one would have left it. Weights here never tie, so the two
// schedules must agree exactly (with ties Envoy allows them to differ).
func TestEDFWithPicksIsAheadByPicks(t *testing.T) {
	for _, weights := range [][]float64{{1.1, 2.3, 3.7}, {10.5, 0.7}, {3.3, 3.1, 0.9, 7.9}} {
		for picks := range uint32(60) {
			fresh := newEDFWithPicks(len(weights), func(i int) float64 { return weights[i] }, 0)
			edfPicks(fresh, weights, int(picks))
			want := edfPicks(fresh, weights, 40)
			ahead := newEDFWithPicks(len(weights), func(i int) float64 { return weights[i] }, picks)
			if got := edfPicks(ahead, weights, 40); !slices.Equal(got, want) {
				t.Fatalf("weights %v, %d picks ahead: %v, want %v", weights, picks, got, want)
			}
		}
	}
	// The seed is taken modulo UINT_MAX/10, as Envoy bounds it.
	w := []float64{1.1, 2.3}
	a := newEDFWithPicks(2, func(i int) float64 { return w[i] }, 429496729+5)
	b := newEDFWithPicks(2, func(i int) float64 { return w[i] }, 5)
	if x, y := edfPicks(a, w, 10), edfPicks(b, w, 10); !slices.Equal(x, y) {
		t.Errorf("picks %v and %v differ", x, y)
	}
}
