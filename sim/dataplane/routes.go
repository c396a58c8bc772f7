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
	routes              []*route // every route; route.index is its position
	filters             perFilter
	internalOnlyHeaders []string
}

type wildcardGroup struct {
	length int
	hosts  map[string]*virtualHost
}

type virtualHost struct {
	name    string
	routes  []*route
	filters perFilter
}

type route struct {
	index   int
	name    string
	vhost   *virtualHost
	match   routeMatch
	filters perFilter

	direct         bool
	directStatus   int
	directBody     string
	clusters       []weightedCluster
	totalWeight    uint32
	timeout        time.Duration
	notFoundStatus int
	upgrades       map[string]bool
}

type weightedCluster struct {
	name   string
	weight uint32
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
	value         string
	re            *stringMatch
	caseSensitive bool
	headers       []headerMatch
	queries       []queryMatch
}

func compileRouteTable(rc *routev3.RouteConfiguration) (*routeTable, error) {
	if err := rc.ValidateAll(); err != nil {
		return nil, err
	}
	if err := unsupported("route configuration", map[string]bool{
		"vhds":                       rc.GetVhds() != nil,
		"request_headers_to_add":     len(rc.GetRequestHeadersToAdd()) > 0,
		"request_headers_to_remove":  len(rc.GetRequestHeadersToRemove()) > 0,
		"response_headers_to_add":    len(rc.GetResponseHeadersToAdd()) > 0,
		"response_headers_to_remove": len(rc.GetResponseHeadersToRemove()) > 0,
		"vhost_header":               rc.GetVhostHeader() != "",
		"cluster_specifier_plugins":  len(rc.GetClusterSpecifierPlugins()) > 0,
	}); err != nil {
		return nil, err
	}
	t := &routeTable{name: rc.GetName(), exact: map[string]*virtualHost{}, ignorePort: rc.GetIgnorePortInHostMatching()}
	for _, h := range rc.GetInternalOnlyHeaders() {
		t.internalOnlyHeaders = append(t.internalOnlyHeaders, canonicalHeader(h))
	}
	maxBody := uint32(defaultMaxDirectBodyBytes)
	if rc.GetMaxDirectResponseBodySizeBytes() != nil {
		maxBody = rc.GetMaxDirectResponseBodySizeBytes().GetValue()
	}
	var err error
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
	return t, nil
}

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
	if err := unsupported("virtual host", map[string]bool{
		"require_tls":                vc.GetRequireTls() != routev3.VirtualHost_NONE,
		"request_headers_to_add":     len(vc.GetRequestHeadersToAdd()) > 0,
		"request_headers_to_remove":  len(vc.GetRequestHeadersToRemove()) > 0,
		"response_headers_to_add":    len(vc.GetResponseHeadersToAdd()) > 0,
		"response_headers_to_remove": len(vc.GetResponseHeadersToRemove()) > 0,
		"matcher":                    vc.GetMatcher() != nil,
	}); err != nil {
		return nil, err
	}
	vh := &virtualHost{name: vc.GetName()}
	var err error
	if vh.filters, err = compilePerFilter(vc.GetTypedPerFilterConfig()); err != nil {
		return nil, err
	}
	for i, rp := range vc.GetRoutes() {
		r, err := compileRoute(rp, maxBody)
		if err != nil {
			return nil, fmt.Errorf("route %d (%q): %w", i, rp.GetName(), err)
		}
		r.index, r.vhost = len(t.routes), vh
		t.routes = append(t.routes, r)
		vh.routes = append(vh.routes, r)
	}
	return vh, nil
}

func compileRoute(rp *routev3.Route, maxBody uint32) (*route, error) {
	if err := unsupported("route", map[string]bool{
		"request_headers_to_add":     len(rp.GetRequestHeadersToAdd()) > 0,
		"request_headers_to_remove":  len(rp.GetRequestHeadersToRemove()) > 0,
		"response_headers_to_add":    len(rp.GetResponseHeadersToAdd()) > 0,
		"response_headers_to_remove": len(rp.GetResponseHeadersToRemove()) > 0,
	}); err != nil {
		return nil, err
	}
	r := &route{name: rp.GetName()}
	var err error
	if r.match, err = compileRouteMatch(rp.GetMatch()); err != nil {
		return nil, err
	}
	if r.filters, err = compilePerFilter(rp.GetTypedPerFilterConfig()); err != nil {
		return nil, err
	}
	switch a := rp.GetAction().(type) {
	case *routev3.Route_DirectResponse:
		r.direct, r.directStatus = true, int(a.DirectResponse.GetStatus())
		body := a.DirectResponse.GetBody()
		if body.GetFilename() != "" || body.GetEnvironmentVariable() != "" {
			return nil, errors.New("direct_response body from a file or environment variable is not implemented by the sim; use inline_string")
		}
		r.directBody = body.GetInlineString()
		if b := body.GetInlineBytes(); len(b) > 0 {
			r.directBody = string(b)
		}
		if len(r.directBody) > int(maxBody) {
			return nil, fmt.Errorf("response body size is %d bytes; maximum is %d", len(r.directBody), maxBody)
		}
	case *routev3.Route_Route:
		if err := r.compileAction(a.Route); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("route action %T is not implemented by the sim (it implements route and direct_response)", a)
	}
	return r, nil
}

func (r *route) compileAction(a *routev3.RouteAction) error {
	if err := unsupported("route action", map[string]bool{
		"prefix_rewrite":          a.GetPrefixRewrite() != "",
		"regex_rewrite":           a.GetRegexRewrite() != nil,
		"path_rewrite_policy":     a.GetPathRewritePolicy() != nil,
		"host_rewrite":            a.GetHostRewriteSpecifier() != nil,
		"request_mirror_policies": len(a.GetRequestMirrorPolicies()) > 0,
	}); err != nil {
		return err
	}
	switch c := a.GetClusterSpecifier().(type) {
	case *routev3.RouteAction_Cluster:
		r.clusters, r.totalWeight = []weightedCluster{{name: c.Cluster, weight: 1}}, 1
	case *routev3.RouteAction_WeightedClusters:
		for _, wc := range c.WeightedClusters.GetClusters() {
			if wc.GetName() == "" {
				return errors.New("weighted cluster without a name (cluster_header is not implemented by the sim)")
			}
			w := wc.GetWeight().GetValue()
			r.clusters = append(r.clusters, weightedCluster{name: wc.GetName(), weight: w})
			r.totalWeight += w
		}
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
		r.upgrades[strings.ToLower(u.GetUpgradeType())] = u.GetEnabled() == nil || u.GetEnabled().GetValue()
	}
	return nil
}

func compileRouteMatch(m *routev3.RouteMatch) (routeMatch, error) {
	rm := routeMatch{caseSensitive: m.GetCaseSensitive() == nil || m.GetCaseSensitive().GetValue()}
	if err := unsupported("route match", map[string]bool{
		"runtime_fraction": m.GetRuntimeFraction() != nil,
		"grpc":             m.GetGrpc() != nil,
		"tls_context":      m.GetTlsContext() != nil,
		"dynamic_metadata": len(m.GetDynamicMetadata()) > 0,
		"filter_state":     len(m.GetFilterState()) > 0,
		"cookies":          len(m.GetCookies()) > 0,
	}); err != nil {
		return rm, err
	}
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
