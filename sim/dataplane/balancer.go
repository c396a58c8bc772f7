package dataplane

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
)

// upstream is a cluster's live endpoint set with Envoy's round robin:
// plain rotation when all weights are equal (starting at a random index, as
// Envoy seeds its RoundRobinLoadBalancer), smooth weighted rotation
// otherwise.
type upstream struct {
	name  string
	hosts []string

	next atomic.Uint64

	weighted bool
	mu       sync.Mutex
	weights  []int64
	current  []int64
	total    int64
}

func newUpstream(name string, eps *endpointSet) *upstream {
	u := &upstream{name: name, hosts: eps.hosts}
	u.next.Store(rand.Uint64N(uint64(max(len(u.hosts), 1))))
	if len(eps.weights) > 1 && slices.ContainsFunc(eps.weights, func(w uint32) bool { return w != eps.weights[0] }) {
		u.weighted = true
		for _, w := range eps.weights {
			u.weights = append(u.weights, int64(w))
			u.total += int64(w)
		}
		u.current = make([]int64, len(u.weights))
	}
	return u
}

// pick returns the next endpoint, or false when the cluster has none.
func (u *upstream) pick() (string, bool) {
	if len(u.hosts) == 0 {
		return "", false
	}
	if !u.weighted {
		return u.hosts[(u.next.Add(1)-1)%uint64(len(u.hosts))], true
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	best := 0
	for i, w := range u.weights {
		u.current[i] += w
		if u.current[i] > u.current[best] {
			best = i
		}
	}
	u.current[best] -= u.total
	return u.hosts[best], true
}

// pickCluster chooses among a route's weighted clusters as Envoy does: a
// random value modulo the total weight.
func (r *route) pickCluster() string {
	if len(r.clusters) == 1 {
		return r.clusters[0].name
	}
	n := rand.Uint32N(r.totalWeight)
	for _, c := range r.clusters {
		if n < c.weight {
			return c.name
		}
		n -= c.weight
	}
	return r.clusters[len(r.clusters)-1].name
}
