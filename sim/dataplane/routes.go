package dataplane

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// Envoy's defaults: a route's upstream timeout and the largest inline
// direct_response body (max_direct_response_body_size_bytes).
const (
	defaultRouteTimeout       = 15 * time.Second
	defaultMaxDirectBodyBytes = 4096
)

// routeTable is a compiled RouteConfiguration.
type routeTable struct {
	name                string
	exact               map[string]*virtualHost
	suffixes, prefixes  []wildcardGroup // longest wildcard first
	def                 *virtualHost
	ignorePort          bool
	ignorePathParams    bool     // ignore_path_parameters_in_path_matching
	routes              []*route // every route; route.index is its position
	filters             perFilter
	internalOnlyHeaders []string

	requestHeaders, responseHeaders *headerMutations
	mostSpecificHeadersWin          bool // most_specific_header_mutations_wins
}

type wildcardGroup struct {
	length int
	hosts  map[string]*virtualHost
}

type virtualHost struct {
	name                            string
	routes                          []*route
	filters                         perFilter
	requestHeaders, responseHeaders *headerMutations
}

type route struct {
	index   int
	name    string
	vhost   *virtualHost
	match   routeMatch
	filters perFilter

	// A direct response (direct_response, or redirect with its redirect
	// set): a local reply with directStatus.
	direct       bool
	directStatus int
	body         directBody
	redirect     *routeRedirect

	clusters        []weightedCluster
	totalWeight     uint32
	timeout         time.Duration
	streamLimits    streamLimits
	notFoundStatus  int
	upgrades        map[string]bool
	rewrites        routeRewrites
	autoHostRewrite bool

	// The route's, its virtual host's and its route configuration's
	// header mutations, in the order Envoy evaluates them.
	requestChain, responseChain []*headerMutations
}

type weightedCluster struct {
	name   string
	weight uint32
	// index is the cluster's place in its route's clusters.
	index int
	// The cluster's own typed_per_filter_config, more specific than its
	// route's (WeightedClusterEntry::mostSpecificPerFilterConfig and
	// filterDisabled).
	filters perFilter
	// The cluster's own request/response_headers_to_add/remove and
	// host_rewrite_literal (weighted_clusters only).
	requestHeaders, responseHeaders *headerMutations
	hostLiteral                     string
}

type pathKind int

const (
	pathPrefix pathKind = iota
	pathExact
	pathSeparatedPrefix
	pathRegex
)

type routeMatch struct {
	kind          pathKind
	value         string // lower case when not case sensitive
	raw           string // as configured
	re            *stringMatch
	caseSensitive bool
	headers       []headerMatch
	queries       []queryMatch
	cookies       []cookieMatch
}

func compileRouteTable(rc *routev3.RouteConfiguration) (*routeTable, error) {
	if err := rc.ValidateAll(); err != nil {
		return nil, err
	}
	if err := checkRouteFields(rc, "route configuration"); err != nil {
		return nil, err
	}
	if rc.GetValidateClusters().GetValue() {
		return nil, errors.New("route configuration sets validate_clusters, which the sim does not implement (it cannot tell which clusters exist when it compiles routes)")
	}
	t := &routeTable{
		name: rc.GetName(), exact: map[string]*virtualHost{}, ignorePort: rc.GetIgnorePortInHostMatching(),
		ignorePathParams:       rc.GetIgnorePathParametersInPathMatching(),
		mostSpecificHeadersWin: rc.GetMostSpecificHeaderMutationsWins(),
	}
	for _, h := range rc.GetInternalOnlyHeaders() {
		t.internalOnlyHeaders = append(t.internalOnlyHeaders, canonicalHeader(h))
	}
	maxBody := uint32(defaultMaxDirectBodyBytes)
	if rc.GetMaxDirectResponseBodySizeBytes() != nil {
		maxBody = rc.GetMaxDirectResponseBodySizeBytes().GetValue()
	}
	var err error
	if t.requestHeaders, err = compileHeaderMutations(rc.GetRequestHeadersToAdd(), rc.GetRequestHeadersToRemove()); err != nil {
		return nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
	}
	if t.responseHeaders, err = compileHeaderMutations(rc.GetResponseHeadersToAdd(), rc.GetResponseHeadersToRemove()); err != nil {
		return nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
	}
	if t.filters, err = compilePerFilter(rc.GetTypedPerFilterConfig()); err != nil {
		return nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
	}
	suffixes := map[int]map[string]*virtualHost{}
	prefixes := map[int]map[string]*virtualHost{}
	for _, vc := range rc.GetVirtualHosts() {
		vh, err := t.compileVirtualHost(vc, maxBody)
		if err != nil {
			return nil, fmt.Errorf("virtual host %q: %w", vc.GetName(), err)
		}
		// As RouteMatcher's constructor in Envoy's config_impl.cc.
		for _, d := range vc.GetDomains() {
			d = strings.ToLower(d)
			var dup bool
			switch {
			case d == "*":
				if t.def != nil {
					return nil, fmt.Errorf("Only a single wildcard domain is permitted in route %s", rc.GetName())
				}
				t.def = vh
			case strings.HasPrefix(d, "*"):
				dup = addWildcard(suffixes, len(d)-1, d[1:], vh)
			case strings.HasSuffix(d, "*"):
				dup = addWildcard(prefixes, len(d)-1, d[:len(d)-1], vh)
			default:
				_, dup = t.exact[d]
				t.exact[d] = vh
			}
			if dup {
				return nil, fmt.Errorf("Only unique values for domains are permitted. Duplicate entry of domain %s in route %s", d, rc.GetName())
			}
		}
	}
	t.suffixes, t.prefixes = sortedGroups(suffixes), sortedGroups(prefixes)
	if routeConfigAccepted != nil {
		routeConfigAccepted(rc)
	}
	return t, nil
}

// routeConfigAccepted, when set (by the package's tests), sees every route
// configuration the sim accepts.
var routeConfigAccepted func(*routev3.RouteConfiguration)

func addWildcard(groups map[int]map[string]*virtualHost, length int, key string, vh *virtualHost) bool {
	if groups[length] == nil {
		groups[length] = map[string]*virtualHost{}
	}
	_, dup := groups[length][key]
	groups[length][key] = vh
	return dup
}

func sortedGroups(groups map[int]map[string]*virtualHost) []wildcardGroup {
	var out []wildcardGroup
	for l, hosts := range groups {
		out = append(out, wildcardGroup{length: l, hosts: hosts})
	}
	slices.SortFunc(out, func(a, b wildcardGroup) int { return cmp.Compare(b.length, a.length) })
	return out
}

func (t *routeTable) compileVirtualHost(vc *routev3.VirtualHost, maxBody uint32) (*virtualHost, error) {
	vh := &virtualHost{name: vc.GetName()}
	var err error
	if vh.requestHeaders, err = compileHeaderMutations(vc.GetRequestHeadersToAdd(), vc.GetRequestHeadersToRemove()); err != nil {
		return nil, err
	}
	if vh.responseHeaders, err = compileHeaderMutations(vc.GetResponseHeadersToAdd(), vc.GetResponseHeadersToRemove()); err != nil {
		return nil, err
	}
	if vh.filters, err = compilePerFilter(vc.GetTypedPerFilterConfig()); err != nil {
		return nil, err
	}
	// Virtual clusters only name stats, but CommonVirtualHostImpl builds
	// their header matchers, so one Envoy would reject is rejected.
	for i, c := range vc.GetVirtualClusters() {
		for _, h := range c.GetHeaders() {
			if _, err := compileHeaderMatch(h); err != nil {
				return nil, fmt.Errorf("virtual_clusters[%d]: %w", i, err)
			}
		}
	}
	for i, rp := range vc.GetRoutes() {
		r, err := t.compileRoute(rp, vh, maxBody)
		if err != nil {
			return nil, fmt.Errorf("route %d (%q): %w", i, rp.GetName(), err)
		}
		r.index, r.vhost = len(t.routes), vh
		t.routes = append(t.routes, r)
		vh.routes = append(vh.routes, r)
	}
	return vh, nil
}

func (t *routeTable) compileRoute(rp *routev3.Route, vh *virtualHost, maxBody uint32) (*route, error) {
	r := &route{name: rp.GetName()}
	var err error
	if r.match, err = compileRouteMatch(rp.GetMatch()); err != nil {
		return nil, err
	}
	if r.filters, err = compilePerFilter(rp.GetTypedPerFilterConfig()); err != nil {
		return nil, err
	}
	reqHeaders, err := compileHeaderMutations(rp.GetRequestHeadersToAdd(), rp.GetRequestHeadersToRemove())
	if err != nil {
		return nil, err
	}
	respHeaders, err := compileHeaderMutations(rp.GetResponseHeadersToAdd(), rp.GetResponseHeadersToRemove())
	if err != nil {
		return nil, err
	}
	// getHeaderParsers: by default the route's mutations are evaluated
	// first and the route configuration's last (so these win); with
	// most_specific_header_mutations_wins the other way round.
	r.requestChain = t.headerChain(reqHeaders, vh.requestHeaders, t.requestHeaders)
	r.responseChain = t.headerChain(respHeaders, vh.responseHeaders, t.responseHeaders)
	switch a := rp.GetAction().(type) {
	case *routev3.Route_DirectResponse:
		r.direct, r.directStatus = true, int(a.DirectResponse.GetStatus())
		if r.body, err = compileDirectBody(a.DirectResponse, maxBody); err != nil {
			return nil, err
		}
		if r.body.contentType != "" && slices.ContainsFunc(r.responseChain, setsContentType) {
			return nil, errors.New("direct_response body_format sets a content type and the route's response headers change content-type too; in which order Envoy applies the two is not implemented by the sim")
		}
	case *routev3.Route_Redirect:
		r.direct = true
		if r.redirect, err = compileRedirect(a.Redirect); err != nil {
			return nil, err
		}
		r.directStatus = r.redirect.status
	case *routev3.Route_Route:
		if err := r.compileAction(a.Route); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("route action %T is not implemented by the sim (it implements route, redirect and direct_response)", a)
	}
	return r, nil
}

// headerChain orders one kind of mutations of a route's three levels as
// RouteEntryImplBase::getRequestHeaderParsers/getResponseHeaderParsers do:
// route, virtual host, route configuration; reversed with
// most_specific_header_mutations_wins. Levels without mutations are left
// out.
func (t *routeTable) headerChain(routeLevel, vhostLevel, configLevel *headerMutations) []*headerMutations {
	chain := []*headerMutations{routeLevel, vhostLevel, configLevel}
	if t.mostSpecificHeadersWin {
		slices.Reverse(chain)
	}
	return slices.DeleteFunc(chain, func(m *headerMutations) bool { return m == nil })
}

func setsContentType(m *headerMutations) bool {
	return slices.Contains(m.remove, "Content-Type") || slices.ContainsFunc(m.add, func(a headerAdd) bool { return a.name == "Content-Type" })
}

func (r *route) compileAction(a *routev3.RouteAction) error {
	switch c := a.GetClusterSpecifier().(type) {
	case *routev3.RouteAction_Cluster:
		r.clusters, r.totalWeight = []weightedCluster{{name: c.Cluster, weight: 1}}, 1
	case *routev3.RouteAction_WeightedClusters:
		if c.WeightedClusters.GetUseHashPolicy().GetValue() {
			return errors.New("weighted_clusters sets use_hash_policy, which the sim does not implement (picking the cluster by the route's hash policy)")
		}
		var total uint64
		for i, wc := range c.WeightedClusters.GetClusters() {
			if wc.GetName() == "" {
				// validateWeightedClusterSpecifier.
				return errors.New("At least one of name or cluster_header need to be specified")
			}
			w := weightedCluster{name: wc.GetName(), weight: wc.GetWeight().GetValue(), index: i, hostLiteral: wc.GetHostRewriteLiteral()}
			var err error
			if w.filters, err = compilePerFilter(wc.GetTypedPerFilterConfig()); err != nil {
				return fmt.Errorf("weighted_clusters.clusters[%d]: %w", i, err)
			}
			if w.requestHeaders, err = compileHeaderMutations(wc.GetRequestHeadersToAdd(), wc.GetRequestHeadersToRemove()); err != nil {
				return fmt.Errorf("weighted_clusters.clusters[%d]: %w", i, err)
			}
			if w.responseHeaders, err = compileHeaderMutations(wc.GetResponseHeadersToAdd(), wc.GetResponseHeadersToRemove()); err != nil {
				return fmt.Errorf("weighted_clusters.clusters[%d]: %w", i, err)
			}
			r.clusters = append(r.clusters, w)
			total += uint64(w.weight)
			if total > 1<<32-1 {
				return fmt.Errorf("The sum of weights of all weighted clusters of route %s exceeds %d", r.name, uint32(1<<32-1))
			}
		}
		r.totalWeight = uint32(total)
		if r.totalWeight == 0 {
			return errors.New("Sum of weights in the weighted_cluster must be greater than 0.")
		}
	default:
		return fmt.Errorf("cluster specifier %T is not implemented by the sim", c)
	}
	r.timeout = defaultRouteTimeout
	if a.GetTimeout() != nil {
		r.timeout = a.GetTimeout().AsDuration()
	}
	if a.GetIdleTimeout() != nil {
		d := a.GetIdleTimeout().AsDuration()
		r.streamLimits.idle = &d
	}
	if msd := a.GetMaxStreamDuration(); msd.GetMaxStreamDuration() != nil {
		d := msd.GetMaxStreamDuration().AsDuration()
		r.streamLimits.maxDuration = &d
	}
	r.notFoundStatus = http.StatusServiceUnavailable
	switch a.GetClusterNotFoundResponseCode() {
	case routev3.RouteAction_NOT_FOUND:
		r.notFoundStatus = http.StatusNotFound
	case routev3.RouteAction_INTERNAL_SERVER_ERROR:
		r.notFoundStatus = http.StatusInternalServerError
	}
	for _, u := range a.GetUpgradeConfigs() {
		if r.upgrades == nil {
			r.upgrades = map[string]bool{}
		}
		t := strings.ToLower(u.GetUpgradeType())
		if _, dup := r.upgrades[t]; dup {
			return fmt.Errorf("Duplicate upgrade %s", u.GetUpgradeType())
		}
		r.upgrades[t] = u.GetEnabled() == nil || u.GetEnabled().GetValue()
	}
	var err error
	r.rewrites, r.autoHostRewrite, err = compileRewrites(a)
	return err
}

func compileRouteMatch(m *routev3.RouteMatch) (routeMatch, error) {
	rm := routeMatch{caseSensitive: m.GetCaseSensitive() == nil || m.GetCaseSensitive().GetValue()}
	switch p := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		rm.kind, rm.value = pathPrefix, p.Prefix
	case *routev3.RouteMatch_Path:
		rm.kind, rm.value = pathExact, p.Path
	case *routev3.RouteMatch_PathSeparatedPrefix:
		rm.kind, rm.value = pathSeparatedPrefix, p.PathSeparatedPrefix
	case *routev3.RouteMatch_SafeRegex:
		re, err := compileRegex(p.SafeRegex.GetRegex())
		if err != nil {
			return rm, err
		}
		rm.kind, rm.re = pathRegex, &stringMatch{re: re}
	default:
		return rm, fmt.Errorf("path specifier %T is not implemented by the sim", p)
	}
	rm.raw = rm.value
	if !rm.caseSensitive {
		rm.value = strings.ToLower(rm.value)
	}
	for _, h := range m.GetHeaders() {
		hm, err := compileHeaderMatch(h)
		if err != nil {
			return rm, err
		}
		rm.headers = append(rm.headers, hm)
	}
	for _, q := range m.GetQueryParameters() {
		qm, err := compileQueryMatch(q)
		if err != nil {
			return rm, err
		}
		rm.queries = append(rm.queries, qm)
	}
	for _, c := range m.GetCookies() {
		cm, err := compileCookieMatch(c)
		if err != nil {
			return rm, err
		}
		rm.cookies = append(rm.cookies, cm)
	}
	return rm, nil
}

// findVirtualHost is RouteMatcher::findVirtualHost: exact domain, then the
// longest "*suffix", then the longest "prefix*", then "*". A wildcard must
// match at least one character.
func (t *routeTable) findVirtualHost(host string) *virtualHost {
	if len(t.exact) == 0 && len(t.suffixes) == 0 && len(t.prefixes) == 0 {
		return t.def
	}
	if t.ignorePort {
		host = stripPort(host)
	}
	host = strings.ToLower(host)
	if vh, ok := t.exact[host]; ok {
		return vh
	}
	for _, g := range t.suffixes {
		if g.length < len(host) {
			if vh, ok := g.hosts[host[len(host)-g.length:]]; ok {
				return vh
			}
		}
	}
	for _, g := range t.prefixes {
		if g.length < len(host) {
			if vh, ok := g.hosts[host[:g.length]]; ok {
				return vh
			}
		}
	}
	return t.def
}

// route returns the first matching route of the request's virtual host.
func (t *routeTable) route(r *http.Request) *route {
	vh := t.findVirtualHost(r.Host)
	if vh == nil {
		return nil
	}
	path, ok := requestPath(r)
	if !ok {
		return nil
	}
	if t.ignorePathParams {
		// RouteEntryImplBase::sanitizePathBeforePathMatching: the path
		// matchers see the path up to its first ';'.
		path, _, _ = strings.Cut(path, ";")
	}
	for _, rt := range vh.routes {
		if rt.match.matches(r, path) {
			return rt
		}
	}
	return nil
}

func (m *routeMatch) matches(r *http.Request, path string) bool {
	if !m.caseSensitive {
		path = strings.ToLower(path)
	}
	switch m.kind {
	case pathPrefix:
		if !strings.HasPrefix(path, m.value) {
			return false
		}
	case pathExact:
		if path != m.value {
			return false
		}
	case pathSeparatedPrefix:
		if !strings.HasPrefix(path, m.value) || (len(path) > len(m.value) && path[len(m.value)] != '/') {
			return false
		}
	case pathRegex:
		if !m.re.match(path) {
			return false
		}
	}
	for _, h := range m.headers {
		if !h.match(r) {
			return false
		}
	}
	for _, q := range m.queries {
		if !q.match(r.URL.RawQuery) {
			return false
		}
	}
	if len(m.cookies) > 0 {
		cookies := parseCookies(r.Header["Cookie"])
		for _, c := range m.cookies {
			if !c.match(cookies) {
				return false
			}
		}
	}
	return true
}

// requestPath is the :path Envoy matches routes on: the request target
// without query and fragment. A CONNECT request has none, so no route.
func requestPath(r *http.Request) (string, bool) {
	if r.Method == http.MethodConnect {
		return "", false
	}
	p := r.RequestURI
	if !strings.HasPrefix(p, "/") {
		p = r.URL.EscapedPath()
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	return p, p != ""
}

func unsupported(what string, fields map[string]bool) error {
	var set []string
	for f, isSet := range fields {
		if isSet {
			set = append(set, f)
		}
	}
	if len(set) == 0 {
		return nil
	}
	slices.Sort(set)
	return fmt.Errorf("%s sets %s, which the sim does not implement", what, strings.Join(set, ", "))
}
