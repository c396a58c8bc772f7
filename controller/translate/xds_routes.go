package translate

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/internal/mutant"
)

// vhostBuilder gathers the routes of one hostname on one port. Every
// virtual host belongs to exactly one listener: the most specific one for
// its hostname, as Gateway API routes requests.
type vhostBuilder struct {
	hostname string
	listener *listenerModel
	entries  []*routeEntry
}

// routeConfiguration builds the RouteConfiguration of one Gateway port.
// API key auth is placed by attachment level: a Gateway policy on the
// RouteConfiguration, a listener policy on that listener's virtual hosts,
// route and rule policies on their routes; Envoy applies the most specific.
func routeConfiguration(gw *gatewayModel, port int32, listeners []*listenerModel, ps *policies) *routev3.RouteConfiguration {
	name := listenerName(port)
	vhosts := map[string]*vhostBuilder{}
	for _, l := range listeners {
		for _, att := range l.attachments {
			for _, h := range att.hostnames {
				if mostSpecificListener(listeners, h) != l {
					continue // requests for h reach another listener
				}
				vb := vhosts[h]
				if vb == nil {
					vb = &vhostBuilder{hostname: h, listener: l}
					vhosts[h] = vb
				}
				for _, rule := range att.route.rules {
					for _, m := range rule.matches {
						vb.entries = append(vb.entries, &routeEntry{att: att, rule: rule, match: m})
					}
				}
			}
		}
	}
	if len(listeners) > 1 {
		// A listener hostname without routes must still answer 404 rather
		// than let a less specific listener's virtual host take its requests.
		for _, l := range listeners {
			if l.hostname != "" && vhosts[l.hostname] == nil {
				vhosts[l.hostname] = &vhostBuilder{hostname: l.hostname, listener: l}
			}
		}
	}

	hostnames := make([]string, 0, len(vhosts))
	for h := range vhosts {
		hostnames = append(hostnames, h)
	}
	slices.Sort(hostnames)
	// Virtual hosts match the Host without its port, but the Host goes
	// upstream as the client sent it: Gateway API forwards it unchanged
	// (as kgateway and Envoy Gateway configure Envoy, rather than
	// stripping the port in the connection manager).
	rc := &routev3.RouteConfiguration{Name: name, IgnorePortInHostMatching: true}
	for _, h := range hostnames {
		rc.VirtualHosts = append(rc.VirtualHosts, vhosts[h].build(name, ps))
	}
	if len(ps.invalidAt(targetKey{levelGateway, gw.key, ""})) > 0 {
		// An invalid Gateway-wide policy replaces the whole route
		// configuration, routes with valid policies of their own included
		// (kgateway's ComputeRouteConfiguration, EP-11937; docs/spec.md
		// FC-04, FC-05). The routes were
		// still built above so that their statuses are reported.
		rc.VirtualHosts = []*routev3.VirtualHost{replacedVirtualHost(virtualHostName(name, "*"), "*")}
		return rc
	}
	rc.TypedPerFilterConfig = perFilterConfig(ps.atGateway(gw))
	return rc
}

// replacedVirtualHost answers every request with kgateway's 500 direct
// response, and carries no per-filter config: nothing under it forwards.
func replacedVirtualHost(name, domain string) *routev3.VirtualHost {
	return &routev3.VirtualHost{
		Name:    name,
		Domains: []string{domain},
		Routes: []*routev3.Route{{
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
			Action: directResponse(invalidRouteBody),
		}},
	}
}

// mostSpecificListener is the listener that receives requests for hostname
// h: exact before wildcard before none.
func mostSpecificListener(listeners []*listenerModel, h string) *listenerModel {
	var best *listenerModel
	for _, l := range listeners {
		if listenerCovers(l.hostname, h) && (best == nil || moreSpecificListener(l.hostname, best.hostname)) {
			best = l
		}
	}
	return best
}

func (vb *vhostBuilder) build(listener string, ps *policies) *routev3.VirtualHost {
	slices.SortStableFunc(vb.entries, comparePrecedence)
	domain := domainOf(vb.hostname)
	vh := &routev3.VirtualHost{
		Name:    virtualHostName(listener, domain),
		Domains: []string{domain},
	}
	for _, e := range vb.entries {
		vh.Routes = append(vh.Routes, envoyRoute(e, ps))
	}
	if len(ps.invalidAt(listenerTarget(vb.listener))) > 0 {
		// An invalid listener policy replaces the listener's virtual hosts,
		// keeping name and domain so that routing precedence between
		// listeners holds (kgateway's computeVirtualHost, EP-11937;
		// docs/spec.md FC-03).
		return replacedVirtualHost(vh.Name, domain)
	}
	vh.TypedPerFilterConfig = perFilterConfig(ps.atListener(vb.listener))
	return vh
}

// envoyRoute builds one route. A route whose effective API key auth policy
// is invalid never forwards: it answers kgateway's 500 instead, so broken
// auth cannot let unauthenticated requests through.
func envoyRoute(e *routeEntry, ps *policies) *routev3.Route {
	rm, rule := e.att.route, e.rule
	r := &routev3.Route{Name: envoyRouteName(rm.key, rule.index, e.match.index), Match: e.match.match}
	if bad := ps.invalidOn(rm, rule); len(bad) > 0 {
		// Only the route's own per-filter config goes: a valid policy of its
		// listener or Gateway still runs before the router answers 500, as
		// with kgateway's envoyRoutes on Envoy (docs/spec.md FC-02, FC-07).
		r.Action = directResponse(invalidRouteBody)
		msgs := make([]string, len(bad))
		for i, p := range bad {
			msgs[i] = fmt.Sprintf("%s/TrafficPolicy/%s/%s: %s", policyGroup, p.key.Namespace, p.key.Name, p.invalid)
		}
		for _, p := range e.att.parents {
			p.drop(rule.index, reasonRouteRuleReplaced, strings.Join(msgs, "; "))
		}
		return r
	}
	policy, lvl := ps.effective(e.att.listener, rm, rule)
	switch {
	case len(rule.filters.problems) > 0:
		r.Action = directResponse("")
		for _, p := range e.att.parents {
			p.drop(rule.index, string(gwv1.RouteReasonUnsupportedValue), rule.filters.message())
		}
	case rule.filters.redirect != nil:
		// Envoy's router answers the redirect, after the HTTP filters: API
		// key auth, at whatever level it is attached, still applies.
		r.Action = &routev3.Route_Redirect{Redirect: redirectAction(rule.filters.redirect, e.att.listener, e.match)}
	case rule.action == nil:
		r.Action = directResponse("")
	default:
		r.Action = rule.action
		// Only requests sent upstream carry header modifications.
		r.RequestHeadersToAdd, r.RequestHeadersToRemove = rule.filters.headersToAdd, rule.filters.headersToRemove
	}
	if lvl == levelRoute || lvl == levelRule {
		r.TypedPerFilterConfig = perFilterConfig(policy)
		if mutant.On(mutant.RouteMergedWithGateway) {
			r.TypedPerFilterConfig = mergeOuterCredentials(r.TypedPerFilterConfig, ps, e.att.listener)
		}
	}
	return r
}

// perFilterConfig is the typed_per_filter_config carrying a valid policy's
// API key auth config; nil when there is none to place.
func perFilterConfig(p *policyModel) map[string]*anypb.Any {
	if p == nil || p.config == nil {
		return nil
	}
	return map[string]*anypb.Any{apiKeyAuthFilterName: p.config}
}

// directResponse answers 500 from Envoy itself, with an optional body.
func directResponse(body string) *routev3.Route_DirectResponse {
	dr := &routev3.DirectResponseAction{Status: http.StatusInternalServerError}
	if body != "" {
		dr.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: body}}
	}
	return &routev3.Route_DirectResponse{DirectResponse: dr}
}
