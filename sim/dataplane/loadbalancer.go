package dataplane

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
)

// clusterLB is a cluster's load balancer as Envoy builds it from
// source/extensions/load_balancing_policies/common/load_balancer_impl.cc
// (LoadBalancerBase: priorities and panic; ZoneAwareLoadBalancerBase: the
// host source and locality weighted choice; EdfLoadBalancerBase: weighted
// schedules) and the round_robin, least_request and random policies. Envoy
// has one per worker thread; the sim is one worker. It is made with the
// cluster and refreshed when the cluster's endpoints change, keeping what
// Envoy keeps across host updates: the seed, the round robin indexes, the
// active request count of every host still there, and the schedules of
// priorities the update left alone.
type clusterLB struct {
	cfg *lbConfig
	rnd func() uint64 // Random::RandomGenerator::random

	mu    sync.Mutex
	seed  uint64                // EdfLoadBalancerBase::seed_
	rr    map[hostSource]uint64 // RoundRobinLoadBalancer::rr_indexes_
	stats map[string]*hostStats // the hosts' stats, by address
	gen   *lbGeneration         // over the last endpoint set
}

// hostStats are the stats of a host that load balancing reads: rq_active,
// the requests attached to one of its connections and not yet complete
// (ConnPoolImplBase::attachStreamToClient to onStreamClosed).
type hostStats struct {
	active atomic.Int64
}

// lbHost is a host as a load balancer sees it.
type lbHost struct {
	addr     string
	hostname string // the endpoint's, for auto_host_rewrite
	weight   uint32
	stats    *hostStats
	priority int
	index    int // in its priority's hosts
}

func (h *lbHost) active() uint64 { return uint64(max(0, h.stats.active.Load())) }

// hostSource is Envoy's HostsSource: which host vector a pick is made from.
type hostSource struct {
	priority int
	kind     sourceKind
	locality int
}

type sourceKind uint8

const (
	allHosts sourceKind = iota // in panic
	healthyHosts
	degradedHosts
	localityHealthyHosts
	localityDegradedHosts
)

func newClusterLB(cfg *lbConfig, rnd func() uint64) *clusterLB {
	if rnd == nil {
		rnd = rand.Uint64
	}
	lb := &clusterLB{cfg: cfg, rnd: rnd, rr: map[hostSource]uint64{}, stats: map[string]*hostStats{}}
	if cfg.kind != lbRandom {
		lb.seed = rnd()
	}
	return lb
}

// lbGeneration is the load balancer over one endpoint set.
type lbGeneration struct {
	lb    *clusterLB
	eps   *endpointSet
	prios []*priorityLB
	// Per priority: the share of picks (in percent) for its healthy and
	// its degraded hosts, and whether it is in panic (Envoy's
	// per_priority_load_ and per_priority_panic_).
	healthyLoad, degradedLoad []uint32
	panic                     []bool
}

// priorityLB is one priority's host set as Envoy partitions it
// (ClusterImplBase::partitionHostList), with its schedules.
type priorityLB struct {
	src                                *priorityEndpoints
	hosts, healthy, degraded, excluded []*lbHost
	localityHealthy, localityDegraded  [][]*lbHost
	// The locality schedules (LocalityWrr), nil when no locality has a
	// positive effective weight.
	healthyLocalities, degradedLocalities *localitySchedule
	// The weighted host schedules, for sources whose hosts' weights differ.
	edf map[hostSource]*edfScheduler
}

// generation is the load balancer over eps, refreshed first if eps is not
// the endpoint set it was last used with.
func (lb *clusterLB) generation(eps *endpointSet) *lbGeneration {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.gen != nil && lb.gen.eps == eps {
		return lb.gen
	}
	prev := lb.gen
	stats := map[string]*hostStats{}
	for _, pe := range eps.priorities {
		for _, e := range pe.hosts {
			st := lb.stats[e.addr]
			if st == nil {
				st = &hostStats{}
			}
			stats[e.addr] = st
		}
	}
	lb.stats = stats
	// Envoy refreshes the priorities an update changes (hosts, health,
	// locality weights); it applies a change of host weight alone in place,
	// for the schedule to pick up as it re-adds the host, where the sim
	// refreshes that priority too.
	g := &lbGeneration{lb: lb, eps: eps}
	same := prev != nil && prev.eps.overprovisioning == eps.overprovisioning && prev.eps.weightedHealth == eps.weightedHealth
	for p, pe := range eps.priorities {
		if same && p < len(prev.prios) && prev.prios[p].src.equal(pe) {
			g.prios = append(g.prios, prev.prios[p])
			continue
		}
		g.prios = append(g.prios, lb.newPriority(p, pe, eps.overprovisioning))
	}
	g.computeLoads()
	lb.gen = g
	return g
}

// newPriority partitions one priority's hosts and builds its schedules, as
// ZoneAwareLoadBalancerBase::rebuildLocalityWrrForPriority and
// EdfLoadBalancerBase::refresh do for a priority an update changed.
func (lb *clusterLB) newPriority(p int, pe *priorityEndpoints, overprovisioning uint32) *priorityLB {
	pl := &priorityLB{src: pe, edf: map[hostSource]*edfScheduler{}}
	pl.localityHealthy = make([][]*lbHost, len(pe.localities))
	pl.localityDegraded = make([][]*lbHost, len(pe.localities))
	for i, e := range pe.hosts {
		h := &lbHost{addr: e.addr, hostname: e.hostname, weight: e.weight, stats: lb.stats[e.addr], priority: p, index: i}
		pl.hosts = append(pl.hosts, h)
		switch e.health {
		case healthy:
			pl.healthy = append(pl.healthy, h)
			pl.localityHealthy[e.locality] = append(pl.localityHealthy[e.locality], h)
		case degraded:
			pl.degraded = append(pl.degraded, h)
			pl.localityDegraded[e.locality] = append(pl.localityDegraded[e.locality], h)
		}
		if e.excluded {
			pl.excluded = append(pl.excluded, h)
		}
	}
	if lb.cfg.localityWeighted {
		seed := lb.rnd()
		pl.healthyLocalities = newLocalitySchedule(pe, pl.localityHealthy, len(pl.healthy), overprovisioning, seed)
		pl.degradedLocalities = newLocalitySchedule(pe, pl.localityDegraded, len(pl.degraded), overprovisioning, seed)
	}
	if lb.cfg.kind == lbRandom {
		return pl // RandomLoadBalancer has no schedules
	}
	pl.addSchedule(lb, hostSource{p, allHosts, 0}, pl.hosts)
	pl.addSchedule(lb, hostSource{p, healthyHosts, 0}, pl.healthy)
	pl.addSchedule(lb, hostSource{p, degradedHosts, 0}, pl.degraded)
	for i := range pe.localities {
		pl.addSchedule(lb, hostSource{p, localityHealthyHosts, i}, pl.localityHealthy[i])
		pl.addSchedule(lb, hostSource{p, localityDegradedHosts, i}, pl.localityDegraded[i])
	}
	return pl
}

// addSchedule gives a source an EDF schedule when its hosts' weights
// differ; with equal weights (or one host) Envoy picks without one
// (EdfLoadBalancerBase::refresh). The schedule starts seed picks in, the
// same seed for every source.
func (pl *priorityLB) addSchedule(lb *clusterLB, src hostSource, hosts []*lbHost) {
	if len(hosts) <= 1 || !slices.ContainsFunc(hosts, func(h *lbHost) bool { return h.weight != hosts[0].weight }) {
		return
	}
	pl.edf[src] = newEDFWithPicks(len(hosts), func(i int) float64 { return lb.hostWeight(hosts[i]) }, uint32(lb.seed))
}

// hostWeight is the weight a host is scheduled with: its own for round
// robin; for least request LeastRequestLoadBalancer::hostWeight,
// weight / (active requests + 1)^active_request_bias.
func (lb *clusterLB) hostWeight(h *lbHost) float64 {
	w := float64(h.weight)
	if lb.cfg.kind != lbLeastRequest {
		return w
	}
	v := h.active()
	if v != math.MaxUint64 {
		v++
	}
	switch b := lb.cfg.bias; {
	case b == 1:
		return w / float64(v)
	case b != 0:
		return w / math.Pow(float64(v), b)
	}
	return w
}

// localitySchedule is Envoy's LocalityWrr for one priority and availability
// (source/extensions/load_balancing_policies/common/locality_wrr.cc): an
// EDF schedule over the localities with a positive effective weight,
// load_balancing_weight * min(1, overprovisioning * eligible hosts / hosts),
// started at a random point.
type localitySchedule struct {
	sched    *edfScheduler
	locality []int
	weight   []float64
}

func newLocalitySchedule(pe *priorityEndpoints, eligible [][]*lbHost, eligibleTotal int, overprovisioning uint32, seed uint64) *localitySchedule {
	if eligibleTotal == 0 || len(pe.localities) == 0 {
		return nil
	}
	s := &localitySchedule{}
	for i, loc := range pe.localities {
		count := 0
		for _, hi := range loc.hosts {
			if !pe.hosts[hi].excluded {
				count++
			}
		}
		if count == 0 {
			continue
		}
		ratio := 1.0 * float64(len(eligible[i])) / float64(count)
		w := float64(loc.weight) * min(1.0, float64(overprovisioning)/100.0*ratio)
		if w > 0 {
			s.locality = append(s.locality, i)
			s.weight = append(s.weight, w)
		}
	}
	if len(s.locality) == 0 {
		return nil
	}
	s.sched = newEDFWithPicks(len(s.weight), func(i int) float64 { return s.weight[i] }, uint32(seed))
	return s
}

func (s *localitySchedule) pick() int {
	i, _ := s.sched.pickAndAdd(func(i int) float64 { return s.weight[i] })
	return s.locality[i]
}

// computeLoads is LoadBalancerBase::recalculatePerPriorityState and
// recalculatePerPriorityPanic: each priority's health (the share of healthy,
// or degraded, hosts or weight, times the overprovisioning factor, capped
// at 100), the load spread from priority 0 down by health, then by degraded
// health, and panic for a priority whose healthy and degraded hosts are
// below healthy_panic_threshold, unless the priorities together are fully
// available. When every priority is in panic, the load follows the host
// counts (recalculateLoadInTotalPanic).
func (g *lbGeneration) computeLoads() {
	n := len(g.prios)
	health, degr := make([]uint32, n), make([]uint32, n)
	g.healthyLoad, g.degradedLoad, g.panic = make([]uint32, n), make([]uint32, n), make([]bool, n)
	ovp := uint64(g.eps.overprovisioning)
	for p, pl := range g.prios {
		count := len(pl.hosts) - len(pl.excluded)
		if count == 0 {
			continue
		}
		hw, dw, tw := uint64(len(pl.healthy)), uint64(len(pl.degraded)), uint64(count)
		if g.eps.weightedHealth {
			sum := func(hs []*lbHost) (s uint64) {
				for _, h := range hs {
					s += uint64(h.weight)
				}
				return s
			}
			hw, dw, tw = sum(pl.healthy), sum(pl.degraded), sum(pl.hosts)-sum(pl.excluded)
		}
		health[p] = uint32(min(100, ovp*hw/tw))
		degr[p] = uint32(min(100, ovp*dw/tw))
	}
	var sum uint32
	for p := range n {
		sum += health[p] + degr[p]
	}
	total := min(100, sum) // calculateNormalizedTotalAvailability
	if total > 0 {
		distribute := func(load, avail []uint32, remaining uint32) (int, uint32) {
			first := -1
			for p := range n {
				if first < 0 && avail[p] > 0 {
					first = p
				}
				load[p] = min(remaining, avail[p]*100/total)
				remaining -= load[p]
			}
			return first, remaining
		}
		firstHealthy, rest := distribute(g.healthyLoad, health, 100)
		firstDegraded, rest := distribute(g.degradedLoad, degr, rest)
		if rest != 0 {
			if firstHealthy >= 0 {
				g.healthyLoad[firstHealthy] += rest
			} else {
				g.degradedLoad[firstDegraded] += rest
			}
		}
	}
	threshold := min(100, g.lb.cfg.panicThreshold)
	if threshold == 0 && total == 0 {
		g.healthyLoad[0] = 100
		return
	}
	totalPanic := true
	for p, pl := range g.prios {
		g.panic[p] = total != 100 && pl.inPanic(threshold)
		totalPanic = totalPanic && g.panic[p]
	}
	if !totalPanic {
		return
	}
	hosts := 0
	for _, pl := range g.prios {
		hosts += len(pl.hosts)
	}
	if hosts == 0 {
		g.healthyLoad[0] = 100
		return
	}
	remaining, first := uint32(100), -1
	for p, pl := range g.prios {
		if first < 0 && len(pl.hosts) > 0 {
			first = p
		}
		g.healthyLoad[p] = uint32(100 * len(pl.hosts) / hosts)
		g.degradedLoad[p] = 0
		remaining -= g.healthyLoad[p]
	}
	g.healthyLoad[first] += remaining
}

// inPanic is LoadBalancerBase::isHostSetInPanic.
func (pl *priorityLB) inPanic(threshold uint64) bool {
	count := len(pl.hosts) - len(pl.excluded)
	var healthyPct, degradedPct float64
	if count > 0 {
		healthyPct = 100.0 * float64(len(pl.healthy)) / float64(count)
		degradedPct = 100.0 * float64(len(pl.degraded)) / float64(count)
	}
	return healthyPct+degradedPct < float64(threshold)
}

// pick is ZoneAwareLoadBalancerBase::chooseHost: one random number chooses
// the priority, the host source follows from panic and locality weights,
// then the policy picks from it. nil is "no healthy upstream".
func (g *lbGeneration) pick() *lbHost {
	lb := g.lb
	lb.mu.Lock()
	defer lb.mu.Unlock()
	hash := lb.rnd()
	src, ok := g.hostSource(hash)
	if !ok {
		return nil
	}
	hosts := g.sourceHosts(src)
	if lb.cfg.kind == lbRandom {
		// RandomLoadBalancer::peekOrChoose: the priority's random number
		// again; host weights play no part.
		if len(hosts) == 0 {
			return nil
		}
		return hosts[hash%uint64(len(hosts))]
	}
	if s := g.prios[src.priority].edf[src]; s != nil {
		i, _ := s.pickAndAdd(func(i int) float64 { return lb.hostWeight(hosts[i]) })
		return hosts[i]
	}
	if len(hosts) == 0 {
		return nil
	}
	if lb.cfg.kind == lbRoundRobin {
		// RoundRobinLoadBalancer::unweightedHostPick: each source's index
		// starts at the seed.
		i, ok := lb.rr[src]
		if !ok {
			i = lb.seed
		}
		lb.rr[src] = i + 1
		return hosts[i%uint64(len(hosts))]
	}
	if lb.cfg.fullScan {
		return lb.fullScan(hosts)
	}
	// LeastRequestLoadBalancer::unweightedHostPickNChoices: choice_count
	// random hosts (perhaps the same one twice); the first with the fewest
	// active requests.
	var best *lbHost
	for range lb.cfg.choiceCount {
		h := hosts[lb.rnd()%uint64(len(hosts))]
		if best == nil || h.active() < best.active() {
			best = h
		}
	}
	return best
}

// fullScan is LeastRequestLoadBalancer::unweightedHostPickFullScan: the
// host with the fewest active requests, ties broken uniformly by reservoir
// sampling.
func (lb *clusterLB) fullScan(hosts []*lbHost) *lbHost {
	best, tied := hosts[0], uint64(1)
	for _, h := range hosts[1:] {
		switch a, b := h.active(), best.active(); {
		case a < b:
			best, tied = h, 1
		case a == b:
			tied++
			if lb.rnd()%tied == 0 {
				best = h
			}
		}
	}
	return best
}

// hostSource is ZoneAwareLoadBalancerBase::hostSourceToUse without a local
// cluster (whyZoneAware): all hosts of a priority in panic (none with
// fail_traffic_on_panic), else a locality's healthy (or degraded) hosts
// when locality weighted and some locality has weight, else the priority's.
func (g *lbGeneration) hostSource(hash uint64) (hostSource, bool) {
	p, isDegraded := g.choosePriority(hash)
	if g.panic[p] {
		if g.lb.cfg.failOnPanic {
			return hostSource{}, false
		}
		return hostSource{priority: p, kind: allHosts}, true
	}
	if g.lb.cfg.localityWeighted {
		s, kind := g.prios[p].healthyLocalities, localityHealthyHosts
		if isDegraded {
			s, kind = g.prios[p].degradedLocalities, localityDegradedHosts
		}
		if s != nil {
			return hostSource{priority: p, kind: kind, locality: s.pick()}, true
		}
	}
	if isDegraded {
		return hostSource{priority: p, kind: degradedHosts}, true
	}
	return hostSource{priority: p, kind: healthyHosts}, true
}

// choosePriority is LoadBalancerBase::choosePriority: hash % 100 + 1 falls
// in one priority's healthy load, else in one's degraded load.
func (g *lbGeneration) choosePriority(hash uint64) (p int, isDegraded bool) {
	h := uint32(hash%100) + 1
	var agg uint32
	for p, l := range g.healthyLoad {
		if agg += l; h <= agg {
			return p, false
		}
	}
	for p, l := range g.degradedLoad {
		if agg += l; h <= agg {
			return p, true
		}
	}
	return 0, false
}

func (g *lbGeneration) sourceHosts(s hostSource) []*lbHost {
	pl := g.prios[s.priority]
	switch s.kind {
	case allHosts:
		return pl.hosts
	case healthyHosts:
		return pl.healthy
	case degradedHosts:
		return pl.degraded
	case localityHealthyHosts:
		return pl.localityHealthy[s.locality]
	default:
		return pl.localityDegraded[s.locality]
	}
}
