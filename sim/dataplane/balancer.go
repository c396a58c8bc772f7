package dataplane

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
)

// upstream is a cluster as one rebuild of the proxy's state sees it: its
// load balancer over the endpoints in force.
type upstream struct {
	name string
	spec *clusterSpec
	gen  *lbGeneration
	id   uint64 // names the upstream in the pick tokens
}

var upstreamIDs atomic.Uint64

func newUpstream(c *clusterSpec, eps *endpointSet) *upstream {
	return &upstream{name: c.name, spec: c, gen: c.lb.generation(eps), id: upstreamIDs.Add(1)}
}

// pick chooses an endpoint as the cluster's load balancer does, or returns
// false for Envoy's "no healthy upstream". The router puts the string in
// the request URL as its host; it is a token for the pick (which cluster,
// which host), not an address: newReverseProxy turns it back into the
// endpoint's address, so that the request goes through the cluster's own
// connections and counts as one of the host's active requests. A token
// that reached a dialer would be refused by the pod network, never dialled.
func (u *upstream) pick() (string, bool) {
	h := u.gen.pick()
	if h == nil {
		return "", false
	}
	b := make([]byte, 0, 48)
	b = strconv.AppendUint(b, u.id, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(h.priority), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(h.index), 10)
	b = append(b, pickTokenSuffix...)
	return string(b), true
}

// pickTokenSuffix ends every pick token: "<upstream>-<priority>-<host>"
// under the reserved .invalid domain.
const pickTokenSuffix = ".upstream.invalid"

// pickedHost is a pick: the cluster and the host chosen.
type pickedHost struct {
	up   *upstream
	host *lbHost
}

// parsePickToken reads a token made by pick, given the upstreams of the
// connection manager that made it.
func parsePickToken(tok string, byID func(uint64) *upstream) *pickedHost {
	s, ok := strings.CutSuffix(tok, pickTokenSuffix)
	if !ok {
		return nil
	}
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return nil
	}
	var n [3]uint64
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return nil
		}
		n[i] = v
	}
	u := byID(n[0])
	if u == nil || n[1] >= uint64(len(u.gen.prios)) || n[2] >= uint64(len(u.gen.prios[n[1]].hosts)) {
		return nil
	}
	return &pickedHost{up: u, host: u.gen.prios[n[1]].hosts[n[2]]}
}

// pickCluster chooses among a route's weighted clusters as Envoy does: a
// random value modulo the total weight
// (WeightedClusterSpecifierPlugin::pickWeightedCluster).
func (r *route) pickCluster() *weightedCluster {
	if len(r.clusters) == 1 {
		return &r.clusters[0]
	}
	n := rand.Uint32N(r.totalWeight)
	for i := range r.clusters {
		if n < r.clusters[i].weight {
			return &r.clusters[i]
		}
		n -= r.clusters[i].weight
	}
	return &r.clusters[len(r.clusters)-1]
}
