package dataplane

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// lbe is an endpoint; weight 0 leaves load_balancing_weight unset.
func lbe(addr string, weight uint32, status corev3.HealthStatus) *endpointv3.LbEndpoint {
	ap := netip.MustParseAddrPort(addr)
	e := &endpointv3.LbEndpoint{HealthStatus: status, HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: ap.Addr().String(), PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(ap.Port())}}}}}}}
	if weight > 0 {
		e.LoadBalancingWeight = wrapperspb.UInt32(weight)
	}
	return e
}

func up(addr string) *endpointv3.LbEndpoint { return lbe(addr, 0, corev3.HealthStatus_UNKNOWN) }

// locality is a LocalityLbEndpoints; region "" leaves locality unset and
// weight 0 leaves load_balancing_weight unset.
func locality(region string, weight, priority uint32, eps ...*endpointv3.LbEndpoint) *endpointv3.LocalityLbEndpoints {
	l := &endpointv3.LocalityLbEndpoints{Priority: priority, LbEndpoints: eps}
	if region != "" {
		l.Locality = &corev3.Locality{Region: region}
	}
	if weight > 0 {
		l.LoadBalancingWeight = wrapperspb.UInt32(weight)
	}
	return l
}

func assignment(t *testing.T, locs ...*endpointv3.LocalityLbEndpoints) *endpointSet {
	t.Helper()
	eps, err := compileEndpoints(&endpointv3.ClusterLoadAssignment{ClusterName: "c", Endpoints: locs})
	if err != nil {
		t.Fatal(err)
	}
	return eps
}

// script returns the given random numbers in turn, then fails the test.
func script(t *testing.T, vals ...uint64) func() uint64 {
	return func() uint64 {
		if len(vals) == 0 {
			t.Fatal("the load balancer drew more random numbers than the test scripted")
		}
		v := vals[0]
		vals = vals[1:]
		return v
	}
}

func pcg() func() uint64 { return rand.New(rand.NewPCG(1, 2)).Uint64 }

func picks(t *testing.T, g *lbGeneration, n int) []string {
	t.Helper()
	var out []string
	for range n {
		h := g.pick()
		if h == nil {
			out = append(out, "")
			continue
		}
		out = append(out, h.addr)
	}
	return out
}

func counts(t *testing.T, g *lbGeneration, n int) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, a := range picks(t, g, n) {
		m[a]++
	}
	return m
}

func near(got, want int) bool { return got >= want-1 && got <= want+1 }

const (
	hA = "10.0.0.1:80"
	hB = "10.0.0.2:80"
	hC = "10.0.0.3:80"
	hD = "10.0.0.4:80"
)

func rrConfig() *lbConfig {
	return &lbConfig{kind: lbRoundRobin, choiceCount: 2, bias: 1, panicThreshold: 50}
}
func lrConfig() *lbConfig {
	return &lbConfig{kind: lbLeastRequest, choiceCount: 2, bias: 1, panicThreshold: 50}
}

// RoundRobinLoadBalancer: equal weights rotate from the seed; unequal ones
// follow the EDF schedule, seed picks in.
func TestRoundRobin(t *testing.T) {
	eps := assignment(t, locality("", 0, 0, up(hA), up(hB), up(hC)))
	// The seed (1), then one number per pick for the priority.
	g := newClusterLB(rrConfig(), script(t, 1, 9, 9, 9, 9)).generation(eps)
	if got, want := picks(t, g, 4), []string{hB, hC, hA, hB}; !slices.Equal(got, want) {
		t.Errorf("picks %v, want %v", got, want)
	}

	weighted := assignment(t, locality("", 0, 0, lbe(hA, 1, 0), lbe(hB, 2, 0)))
	g = newClusterLB(rrConfig(), script(t, 0, 9, 9, 9, 9, 9, 9)).generation(weighted)
	if got, want := picks(t, g, 6), []string{hB, hA, hB, hB, hA, hB}; !slices.Equal(got, want) {
		t.Errorf("weighted picks %v, want %v", got, want)
	}
	c := counts(t, newClusterLB(rrConfig(), pcg()).generation(weighted), 300)
	if !near(c[hA], 100) || !near(c[hB], 200) {
		t.Errorf("weights 1 and 2 over 300 picks: %v", c)
	}
}

// LeastRequestLoadBalancer::unweightedHostPickNChoices: choice_count random
// hosts, the first with the fewest active requests wins.
func TestLeastRequestChoices(t *testing.T) {
	eps := assignment(t, locality("", 0, 0, up(hA), up(hB), up(hC)))
	// Per pick: the priority's number, then two choices (index = n % 3).
	g := newClusterLB(lrConfig(), script(t, 7,
		0, 0, 2, // A(2) or C(1): C
		0, 1, 0, // B(0) or A(2): B
		0, 0, 3, // A twice: A
		0, 2, 0, // C(1) or A(2): C, the first of the fewest
	)).generation(eps)
	active := map[string]int64{hA: 2, hB: 0, hC: 1}
	for _, h := range g.prios[0].hosts {
		h.stats.active.Store(active[h.addr])
	}
	if got, want := picks(t, g, 4), []string{hC, hB, hA, hC}; !slices.Equal(got, want) {
		t.Errorf("picks %v, want %v", got, want)
	}

	// choice_count 3 samples three.
	cfg := lrConfig()
	cfg.choiceCount = 3
	g = newClusterLB(cfg, script(t, 7, 0, 0, 0, 1)).generation(eps)
	for _, h := range g.prios[0].hosts {
		h.stats.active.Store(active[h.addr])
	}
	if got := picks(t, g, 1); got[0] != hB {
		t.Errorf("A, A, B picked %s, want B", got[0])
	}

	// FULL_SCAN: the least loaded, ties by reservoir sampling.
	cfg = lrConfig()
	cfg.fullScan = true
	four := assignment(t, locality("", 0, 0, up(hA), up(hB), up(hC), up(hD)))
	g = newClusterLB(cfg, script(t, 7, 0, 1, 0, 0)).generation(four)
	active = map[string]int64{hA: 1, hB: 0, hC: 0, hD: 2}
	for _, h := range g.prios[0].hosts {
		h.stats.active.Store(active[h.addr])
	}
	// Tie of B and C: 1 % 2 != 0 keeps B; then 0 % 2 == 0 takes C.
	if got, want := picks(t, g, 2), []string{hB, hC}; !slices.Equal(got, want) {
		t.Errorf("full scan picks %v, want %v", got, want)
	}
}

// With unequal weights least request schedules by
// weight / (active + 1)^active_request_bias.
func TestLeastRequestWeighted(t *testing.T) {
	eps := assignment(t, locality("", 0, 0, lbe(hA, 2, 0), lbe(hB, 1, 0)))
	for _, tt := range []struct {
		bias   float64
		aShare int // of 300 picks, A busy with 3 requests
	}{
		{1, 100},   // 2/4 against 1: 1:2
		{0, 200},   // weights alone: 2:1
		{0.5, 150}, // 2/2 against 1: 1:1
	} {
		cfg := lrConfig()
		cfg.bias = tt.bias
		g := newClusterLB(cfg, pcg()).generation(eps)
		g.prios[0].hosts[0].stats.active.Store(3)
		if c := counts(t, g, 300); !near(c[hA], tt.aShare) {
			t.Errorf("bias %v: %v, want about %d for A", tt.bias, c, tt.aShare)
		}
	}
}

// RandomLoadBalancer: the priority's random number picks the host too,
// whatever the weights.
func TestRandom(t *testing.T) {
	eps := assignment(t, locality("", 0, 0, lbe(hA, 1, 0), lbe(hB, 100, 0), lbe(hC, 1, 0)))
	g := newClusterLB(&lbConfig{kind: lbRandom, panicThreshold: 50}, script(t, 0, 1, 2, 5)).generation(eps)
	if got, want := picks(t, g, 4), []string{hA, hB, hC, hC}; !slices.Equal(got, want) {
		t.Errorf("picks %v, want %v", got, want)
	}
}

// Locality weighted load balancing (LocalityWrr): localities by
// load_balancing_weight times availability; no weight, no traffic; no
// weight anywhere, the hosts of the priority as without localities.
// Without locality_weighted_lb_config the weights are ignored.
func TestLocalityWeights(t *testing.T) {
	weighted := rrConfig()
	weighted.localityWeighted = true
	tests := []struct {
		name string
		cfg  *lbConfig
		eps  *endpointSet
		want map[string]int // of 400 picks
	}{
		{"1:3, one without weight", weighted, assignment(t,
			locality("backend/0", 1, 0, up(hA)), locality("backend/1", 3, 0, up(hB)), locality("backend/2", 0, 0, up(hC))),
			map[string]int{hA: 100, hB: 300}},
		{"no weights at all", weighted, assignment(t,
			locality("backend/0", 0, 0, up(hA), up(hB)), locality("backend/1", 0, 0, up(hC), up(hD))),
			map[string]int{hA: 100, hB: 100, hC: 100, hD: 100}},
		{"weight without locality is no weight", weighted, assignment(t,
			locality("", 5, 0, up(hA)), locality("backend/1", 1, 0, up(hB))),
			map[string]int{hB: 400}},
		{"ignored without locality weighting", rrConfig(), assignment(t,
			locality("backend/0", 1, 0, up(hA)), locality("backend/1", 3, 0, up(hB)), locality("backend/2", 0, 0, up(hC), up(hD))),
			map[string]int{hA: 100, hB: 100, hC: 100, hD: 100}},
		// backend/1 has half its hosts healthy: 3 * min(1, 1.4 * 0.5) = 2.1
		// against 1, and within it the healthy host only.
		{"availability", weighted, assignment(t,
			locality("backend/0", 1, 0, up(hA)), locality("backend/1", 3, 0, up(hB), lbe(hC, 0, corev3.HealthStatus_UNHEALTHY))),
			map[string]int{hA: 129, hB: 271}},
		// A draining host is excluded: backend/1 is fully available.
		{"draining excluded", weighted, assignment(t,
			locality("backend/0", 1, 0, up(hA)), locality("backend/1", 3, 0, up(hB), lbe(hC, 0, corev3.HealthStatus_DRAINING))),
			map[string]int{hA: 100, hB: 300}},
		// Least request within each locality.
		{"least request", &lbConfig{kind: lbLeastRequest, choiceCount: 2, bias: 1, panicThreshold: 50, localityWeighted: true}, assignment(t,
			locality("backend/0", 1, 0, up(hA)), locality("backend/1", 1, 0, up(hB), up(hC))),
			map[string]int{hA: 200, hB: 100, hC: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := counts(t, newClusterLB(tt.cfg, pcg()).generation(tt.eps), 400)
			for a, n := range c {
				if tt.want[a] == 0 {
					t.Errorf("%s got %d picks, want none (%v)", a, n, c)
				}
			}
			for a, n := range tt.want {
				// Round robin and EDF are exact to one pick; least
				// request's choices are random.
				tol := 1
				if tt.cfg.kind == lbLeastRequest && n < 200 {
					tol = 25
				}
				if c[a] < n-tol || c[a] > n+tol {
					t.Errorf("%s got %d picks, want %d (%v)", a, c[a], n, c)
				}
			}
		})
	}
}

// LoadBalancerBase: priority loads by health with the overprovisioning
// factor, degraded hosts after healthy ones, panic, and total panic.
func TestPriorities(t *testing.T) {
	bad := func(a string) *endpointv3.LbEndpoint { return lbe(a, 0, corev3.HealthStatus_UNHEALTHY) }
	tests := []struct {
		name             string
		cfg              func(*lbConfig)
		eps              *endpointSet
		healthy, degrade []uint32
		panic            []bool
	}{
		{"all healthy", nil, assignment(t, locality("", 0, 0, up(hA)), locality("", 0, 1, up(hB))),
			[]uint32{100, 0}, []uint32{0, 0}, []bool{false, false}},
		// P0: 140 * 1/2 = 70; P1 takes the rest.
		{"half of P0 down", nil, assignment(t, locality("", 0, 0, up(hA), bad(hB)), locality("", 0, 1, up(hC))),
			[]uint32{70, 30}, []uint32{0, 0}, []bool{false, false}},
		{"draining is excluded, not down", nil, assignment(t, locality("", 0, 0, up(hA), lbe(hB, 0, corev3.HealthStatus_DRAINING)), locality("", 0, 1, up(hC))),
			[]uint32{100, 0}, []uint32{0, 0}, []bool{false, false}},
		// Never panic while the priorities together are fully available.
		{"degraded", nil, assignment(t, locality("", 0, 0, lbe(hA, 0, corev3.HealthStatus_DEGRADED)), locality("", 0, 1, bad(hB))),
			[]uint32{0, 0}, []uint32{100, 0}, []bool{false, false}},
		// 140 * 1/3 = 46 < 100 and 33% < 50%: panic, and with one
		// priority, total panic: load by host count.
		{"panic", nil, assignment(t, locality("", 0, 0, up(hA), bad(hB), bad(hC))),
			[]uint32{100}, []uint32{0}, []bool{true}},
		{"no panic at threshold 0", func(c *lbConfig) { c.panicThreshold = 0 }, assignment(t, locality("", 0, 0, up(hA), bad(hB), bad(hC))),
			[]uint32{100}, []uint32{0}, []bool{false}},
		// Weighted priority health: 140 * 1/4 = 35.
		{"weighted priority health", nil, func() *endpointSet {
			eps := assignment(t, locality("", 0, 0, lbe(hA, 1, 0), lbe(hB, 3, corev3.HealthStatus_UNHEALTHY)), locality("", 0, 1, up(hC)))
			eps.weightedHealth = true
			return eps
		}(), []uint32{35, 65}, []uint32{0, 0}, []bool{false, false}},
		{"gap: P1 has no hosts", nil, assignment(t, locality("", 0, 0, up(hA), bad(hB)), locality("", 0, 2, up(hC))),
			[]uint32{70, 0, 30}, []uint32{0, 0, 0}, []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rrConfig()
			if tt.cfg != nil {
				tt.cfg(cfg)
			}
			g := newClusterLB(cfg, pcg()).generation(tt.eps)
			if !slices.Equal(g.healthyLoad, tt.healthy) || !slices.Equal(g.degradedLoad, tt.degrade) || !slices.Equal(g.panic, tt.panic) {
				t.Errorf("healthy load %v, degraded load %v, panic %v; want %v, %v, %v", g.healthyLoad, g.degradedLoad, g.panic, tt.healthy, tt.degrade, tt.panic)
			}
		})
	}

	// hash % 100 + 1 up to 70 is P0.
	eps := assignment(t, locality("", 0, 0, up(hA), bad(hB)), locality("", 0, 1, up(hC)))
	g := newClusterLB(rrConfig(), script(t, 0, 69, 70, 169, 99)).generation(eps)
	if got, want := picks(t, g, 4), []string{hA, hC, hA, hC}; !slices.Equal(got, want) {
		t.Errorf("picks %v, want %v", got, want)
	}

	// In panic every host of the priority takes traffic, down ones too.
	panicked := assignment(t, locality("", 0, 0, up(hA), bad(hB), bad(hC)))
	if c := counts(t, newClusterLB(rrConfig(), pcg()).generation(panicked), 30); c[hA] != 10 || c[hB] != 10 || c[hC] != 10 {
		t.Errorf("in panic %v, want 10 each", c)
	}
	cfg := rrConfig()
	cfg.failOnPanic = true
	if c := counts(t, newClusterLB(cfg, pcg()).generation(panicked), 3); c[""] != 3 {
		t.Errorf("fail_traffic_on_panic: %v, want no host", c)
	}
	cfg = rrConfig()
	cfg.panicThreshold = 0
	if c := counts(t, newClusterLB(cfg, pcg()).generation(panicked), 3); c[hA] != 3 {
		t.Errorf("panic threshold 0: %v, want the healthy host only", c)
	}
	// All down: panic sends traffic to them all; no endpoints: none.
	if c := counts(t, newClusterLB(rrConfig(), pcg()).generation(assignment(t, locality("", 0, 0, bad(hA), bad(hB)))), 4); c[hA] != 2 || c[hB] != 2 {
		t.Errorf("all down: %v, want both in panic", c)
	}
	if c := counts(t, newClusterLB(rrConfig(), pcg()).generation(assignment(t)), 2); c[""] != 2 {
		t.Errorf("no endpoints: %v", c)
	}
}

// An endpoint update keeps what Envoy keeps: round robin indexes, the
// active requests of hosts still there, and the schedule of a priority the
// update did not change.
func TestLoadBalancerRefresh(t *testing.T) {
	lb := newClusterLB(rrConfig(), pcg())
	g := lb.generation(assignment(t, locality("", 0, 0, up(hA), up(hB), up(hC))))
	first := picks(t, g, 2)
	g.prios[0].hosts[0].stats.active.Store(4)
	if lb.generation(g.eps) != g {
		t.Error("the same endpoint set refreshed the load balancer")
	}
	// The same hosts again (a new set): the rotation goes on.
	g2 := lb.generation(assignment(t, locality("", 0, 0, up(hA), up(hB), up(hC))))
	next := picks(t, g2, 1)
	all := []string{hA, hB, hC}
	i := slices.Index(all, first[1])
	if next[0] != all[(i+1)%3] {
		t.Errorf("after %v the update restarted round robin at %s", first, next[0])
	}
	if g2.prios[0] != g.prios[0] {
		t.Error("an unchanged priority was rebuilt")
	}
	// A changed priority is rebuilt; host A keeps its active requests,
	// host D is new.
	g3 := lb.generation(assignment(t, locality("", 0, 0, up(hA), up(hD))))
	for _, h := range g3.prios[0].hosts {
		if want := map[string]int64{hA: 4, hD: 0}[h.addr]; h.stats.active.Load() != want {
			t.Errorf("%s has %d active requests, want %d", h.addr, h.stats.active.Load(), want)
		}
	}
	// Removed and added again: a new host, as in Envoy.
	g4 := lb.generation(assignment(t, locality("", 0, 0, up(hB), up(hC))))
	g5 := lb.generation(assignment(t, locality("", 0, 0, up(hA), up(hB))))
	_ = g4
	if n := g5.prios[0].hosts[0].stats.active.Load(); n != 0 {
		t.Errorf("a host removed and added again has %d active requests", n)
	}
}

// EDS dedupe: an address seen before, in any priority, is skipped (lower
// priorities first); STATIC keeps every endpoint.
func TestEndpointDedupe(t *testing.T) {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: "c", Endpoints: []*endpointv3.LocalityLbEndpoints{
		locality("b", 0, 1, up(hA), up(hB)), locality("a", 0, 0, up(hA), up(hA), up(hC)),
	}}
	eps, err := compileEndpoints(cla)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, p := range eps.priorities {
		var as []string
		for _, h := range p.hosts {
			as = append(as, h.addr)
		}
		got = append(got, as)
	}
	if fmt.Sprint(got) != fmt.Sprint([][]string{{hA, hC}, {hB}}) {
		t.Errorf("EDS hosts %v", got)
	}
	static, err := compileLoadAssignment(cla, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(static.priorities[0].hosts) + len(static.priorities[1].hosts); n != 5 {
		t.Errorf("STATIC has %d hosts, want 5", n)
	}
}
