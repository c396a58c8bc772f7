package dataplane

import "container/heap"

// edfScheduler is Envoy's EdfScheduler (source/common/upstream/
// edf_scheduler.h): earliest deadline first over weighted entries, Envoy's
// weighted round robin for hosts and localities. An entry picked at time t
// goes back with deadline t + 1/weight, its weight recomputed at that
// moment; equal deadlines are taken in order of insertion. Entries are
// indexes into the caller's slice.
type edfScheduler struct {
	now   float64 // current_time_: the deadline of the last pick
	order uint64  // order_offset_: the next insertion's tie breaker
	queue edfQueue
}

type edfEntry struct {
	deadline float64
	order    uint64
	item     int
}

type edfQueue []edfEntry

func (q edfQueue) Len() int { return len(q) }
func (q edfQueue) Less(i, j int) bool {
	return q[i].deadline < q[j].deadline || (q[i].deadline == q[j].deadline && q[i].order < q[j].order)
}
func (q edfQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *edfQueue) Push(x any)   { *q = append(*q, x.(edfEntry)) }
func (q *edfQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// add inserts item with deadline now + 1/weight (EdfScheduler::add).
func (s *edfScheduler) add(weight float64, item int) {
	heap.Push(&s.queue, edfEntry{deadline: s.now + 1/weight, order: s.order, item: item})
	s.order++
}

// pickAndAdd takes the entry with the earliest deadline and puts it back
// with the weight it has now (EdfScheduler::pickAndAdd; the sim never
// peeks, so there is no pre-pick list).
func (s *edfScheduler) pickAndAdd(weight func(item int) float64) (int, bool) {
	if len(s.queue) == 0 {
		return 0, false
	}
	e := heap.Pop(&s.queue).(edfEntry)
	s.now = e.deadline
	s.add(weight(e.item), e.item)
	return e.item, true
}

// newEDFWithPicks is EdfScheduler::createWithPicks: the scheduler for items
// 0..n-1 as if it had already made picks picks, which is how Envoy starts
// every worker's schedule at a random point (picks is the load balancer's
// random seed). Like Envoy it first places each entry after the
// floor(picks*w/W) picks it would have had (with 1e-13 added to every
// weight so that weights that are multiples of each other do not tie), then
// makes the remaining picks one by one.
func newEDFWithPicks(n int, weight func(item int) float64, picks uint32) *edfScheduler {
	picks %= 429496729 // UINT_MAX/10, as Envoy bounds it
	s := &edfScheduler{}
	if n == 0 {
		return s
	}
	aug := func(i int) float64 { return weight(i) + 1e-13 }
	sum := 0.0
	for i := range n {
		sum += aug(i)
	}
	var picked uint32
	maxPickTime := 0.0
	for i := range n {
		w := aug(i)
		floor := uint32(w * float64(picks) / sum)
		// Envoy's guard for floor(A*B) coming out above A*B in floating
		// point: one emulated pick fewer, made up by the loop below.
		if floor > 0 && float64(floor)/w >= float64(picks)/sum {
			floor--
		}
		s.queue = append(s.queue, edfEntry{deadline: float64(floor+1) / w, order: uint64(i), item: i})
		maxPickTime = max(maxPickTime, float64(floor)/w)
		picked += floor
	}
	heap.Init(&s.queue)
	s.now, s.order = maxPickTime, uint64(n)
	for ; picked < picks; picked++ {
		s.pickAndAdd(weight)
	}
	return s
}
