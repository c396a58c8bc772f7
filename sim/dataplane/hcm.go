package dataplane

import (
	"context"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keyconform/keyconform/internal/mutant"
	"github.com/keyconform/keyconform/sim/apikeyauth"
)

// hcmRuntime is a connection manager bound to its route configuration and
// the current clusters: everything one request needs, immutable.
type hcmRuntime struct {
	spec         *hcmSpec
	listenerPort uint32
	table        *routeTable
	clusters     map[string]*upstream

	// Per matched route (by route.index) and cluster picked on it (by
	// weightedCluster.index; 0 for a direct response), and for no route:
	// the api_key_auth configs of the stages that run.
	routeAuth   [][][]*apikeyauth.Config
	noRouteAuth []*apikeyauth.Config

	authCounters *apikeyauth.Counters
	rqTotal      *atomic.Uint64
	proxy        *httputil.ReverseProxy

	// http.<stat_prefix>.downstream_rq_failed_path_normalization and
	// downstream_rq_redirected_with_normalized_path.
	pathStats  struct{ failed, redirected *atomic.Uint64 }
	http1Stats *http1CodecStats
}

func newHCMRuntime(p *Proxy, spec *hcmSpec, port uint32, table *routeTable, clusters map[string]*upstream) *hcmRuntime {
	h := &hcmRuntime{
		spec:         spec,
		listenerPort: port,
		table:        table,
		clusters:     clusters,
		authCounters: p.stats.authCounters(spec.statPrefix),
		rqTotal:      p.stats.counter("http." + spec.statPrefix + ".downstream_rq_total"),
	}
	h.pathStats.failed = p.stats.counter("http." + spec.statPrefix + ".downstream_rq_failed_path_normalization")
	h.pathStats.redirected = p.stats.counter("http." + spec.statPrefix + ".downstream_rq_redirected_with_normalized_path")
	h.http1Stats = &http1CodecStats{stats: p.stats}
	stages := func(r *route, wc *weightedCluster) []*apikeyauth.Config {
		var out []*apikeyauth.Config
		for _, s := range spec.stages {
			if c := stageConfig(s, table, r, wc); c != nil {
				out = append(out, c)
			}
		}
		return out
	}
	h.noRouteAuth = stages(nil, nil)
	h.routeAuth = make([][][]*apikeyauth.Config, len(table.routes))
	for _, r := range table.routes {
		if len(r.clusters) == 0 {
			h.routeAuth[r.index] = [][]*apikeyauth.Config{stages(r, nil)}
			continue
		}
		for i := range r.clusters {
			h.routeAuth[r.index] = append(h.routeAuth[r.index], stages(r, &r.clusters[i]))
		}
	}
	h.proxy = newReverseProxy(p.transport, h)
	return h
}

// ServeHTTP is one request through the connection manager: the codec's
// header name check, path, host and header normalisation, route, http
// filters, router.
func (h *hcmRuntime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.rqTotal.Add(1)
	if !h.checkHeaderNames(w, r) || !h.normalizePath(w, r) {
		return
	}
	h.normalizeHost(r)
	h.mutateRequestHeaders(r)
	if hc := h.spec.healthCheck; hc != nil && hc.matches(r) {
		// Listeners serve only once the server is live, and the sim never
		// fails its health checks: always OK.
		h.localReply(w, r, http.StatusOK, "")
		return
	}
	sel := h.table.selectRoute(r)
	rt := sel.rt

	if up := upgradeType(r.Header); up != "" && rt != nil && !h.upgradeAllowed(up, rt) {
		// conn_manager_impl.cc: an upgrade the matched route does not allow
		// is answered 403 (upgrade_failed) and the connection closed; with
		// no route the request goes on to the router's 404.
		w.Header()["Connection"] = []string{"close"}
		h.routeLocalReply(w, sel, http.StatusForbidden, "")
		return
	}

	auth := h.noRouteAuth
	switch {
	case sel.wc != nil:
		auth = h.routeAuth[rt.index][sel.wc.index]
	case rt != nil:
		auth = h.routeAuth[rt.index][0]
	}
	for _, cfg := range auth {
		d := apikeyauth.Check(cfg, r)
		h.authCounters.Record(d)
		if !d.Allowed {
			if mutant.On(mutant.BackendBeforeDecision) {
				h.router(&mutant.Discard{}, r.Clone(r.Context()), sel)
			}
			if mutant.On(mutant.ContentType401Changed) {
				w.Header()["Content-Type"] = []string{"application/json"}
			}
			h.routeLocalReply(w, sel, d.Status, d.Body)
			return
		}
	}
	h.router(w, r, sel)
}

// router is envoy.filters.http.router (source/common/router/router.cc,
// Filter::decodeHeaders) for the sim's route actions. Every local reply
// from here on carries the route's response header mutations
// (routeLocalReply).
func (h *hcmRuntime) router(w http.ResponseWriter, r *http.Request, sel routed) {
	start := time.Now()
	rt := sel.rt
	switch {
	case rt == nil:
		h.localReply(w, r, http.StatusNotFound, "") // route_not_found
		return
	case rt.direct:
		h.directReply(w, r, rt)
		return
	}
	up := h.clusters[sel.wc.name]
	if up == nil {
		// Unknown or still warming cluster: cluster_not_found.
		h.routeLocalReply(w, sel, rt.notFoundStatus, "")
		return
	}
	host, ok := up.pick()
	if !ok {
		h.routeLocalReply(w, sel, http.StatusServiceUnavailable, "no healthy upstream")
		return
	}
	// FilterUtility::finalTimeout sets x-envoy-expected-rq-timeout-ms
	// before the route's header mutations run (finalizeRequestHeaders).
	if rt.timeout > 0 && !h.spec.suppressEnvoyHeaders {
		r.Header["X-Envoy-Expected-Rq-Timeout-Ms"] = []string{strconv.FormatInt(rt.timeout.Milliseconds(), 10)}
	}
	sel.finalizeRequest(r, !h.spec.suppressEnvoyHeaders)

	ctx, st := h.newStream(r.Context(), sel, start)
	defer st.stop()
	r = r.WithContext(context.WithValue(ctx, routedKey{}, sel))
	if r.Body == nil || r.Body == http.NoBody {
		st.requestComplete()
	} else {
		r.Body = &streamBody{ReadCloser: r.Body, s: st}
	}
	r.URL.Scheme, r.URL.Host = "http", host
	pinUpstreamPath(r)
	h.proxy.ServeHTTP(&streamWriter{ResponseWriter: w, s: st}, r)
}

func (h *hcmRuntime) upgradeAllowed(upgrade string, rt *route) bool {
	upgrade = strings.ToLower(upgrade)
	if rt != nil {
		if enabled, ok := rt.upgrades[upgrade]; ok {
			return enabled
		}
	}
	return h.spec.upgrades[upgrade]
}

// localReply is a local reply before routing (or without a route): no
// route's header mutations apply.
func (h *hcmRuntime) localReply(w http.ResponseWriter, r *http.Request, status int, body string) {
	h.sendLocalReply(w, replyFor(r), status, body, nil)
}
