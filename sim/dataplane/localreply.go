package dataplane

import (
	"context"
	"net/http"
	"strconv"

	"github.com/keyconform/keyconform/sim/apikeyauth"
)

// routed is what routing picked for a request: the route, and for a route
// to clusters the one picked (Envoy picks a weighted cluster when it
// resolves the route, before the http filters run:
// WeightedClusterSpecifierPlugin::pickWeightedCluster). rt is nil when no
// route matched.
type routed struct {
	rt *route
	wc *weightedCluster
}

type routedKey struct{}

func routedOf(ctx context.Context) routed {
	s, _ := ctx.Value(routedKey{}).(routed)
	return s
}

// selectRoute is the route for a request and, for a route to clusters, the
// cluster picked.
func (t *routeTable) selectRoute(r *http.Request) routed {
	rt := t.route(r)
	if rt == nil || rt.direct {
		return routed{rt: rt}
	}
	return routed{rt: rt, wc: rt.pickCluster()}
}

// finalizeRequest is RouteEntryImplBase::finalizeRequestHeaders (for a
// weighted cluster WeightedClusterEntry's first: the cluster's own header
// mutations, then its host_rewrite_literal, set as is): the header
// mutations of the route, its virtual host and its route configuration,
// then the host rewrite, then the path rewrite. keepOld (the router does
// not suppress Envoy's headers) keeps the old host and path in
// x-envoy-original-host and x-envoy-original-path.
func (s routed) finalizeRequest(r *http.Request, keepOld bool) {
	if s.wc != nil {
		s.wc.requestHeaders.apply(r.Header, inlineRequestHeaders)
		if s.wc.hostLiteral != "" {
			r.Host = s.wc.hostLiteral
		}
	}
	for _, m := range s.rt.requestChain {
		m.apply(r.Header, inlineRequestHeaders)
	}
	s.rt.rewrites.rewriteHost(r, keepOld)
	s.rt.rewrites.rewritePath(r, &s.rt.match, keepOld)
}

// finalizeResponse is finalizeResponseHeaders (a weighted cluster's own
// mutations first, as WeightedClusterEntry does).
func (s routed) finalizeResponse(hdr http.Header) {
	if s.rt == nil {
		return
	}
	if s.wc != nil {
		s.wc.responseHeaders.apply(hdr, inlineResponseHeaders)
	}
	for _, m := range s.rt.responseChain {
		m.apply(hdr, inlineResponseHeaders)
	}
}

// routeLocalReply is a local reply once routing has run: the filter
// manager applies the matched route's response header mutations to every
// local reply when the route is a route entry (DownstreamFilterManager::
// sendLocalReplyViaFilterChain; a direct response's route is not one, its
// reply is directReply's).
func (h *hcmRuntime) routeLocalReply(w http.ResponseWriter, s routed, status int, body string) {
	var modify func(http.Header)
	if s.rt != nil && !s.rt.direct {
		modify = s.finalizeResponse
	}
	h.sendLocalReply(w, status, body, modify)
}

// directReply is the router's reply for a direct response or redirect
// route (Router::Filter::decodeHeaders): the body (formatted by
// body_format), and in the headers a Location for 201 and 3xx (the
// redirect's, or the request's own URI), body_format's content type, then
// the route's response header mutations.
func (h *hcmRuntime) directReply(w http.ResponseWriter, r *http.Request, rt *route) {
	h.sendLocalReply(w, rt.directStatus, rt.body.render(), func(hdr http.Header) {
		if rt.directStatus == http.StatusCreated || rt.directStatus/100 == 3 {
			if loc := rt.location(r); loc != "" {
				hdr["Location"] = append(hdr["Location"], loc)
			}
		}
		if rt.body.contentType != "" {
			hdr["Content-Type"] = []string{rt.body.contentType}
		}
		routed{rt: rt}.finalizeResponse(hdr)
	})
}

// sendLocalReply is Http::Utility::prepareLocalReply and encodeLocalReply
// (source/common/http/utility.cc) with the connection manager's response
// headers: modify first, then with a body its content-length and, unless
// set, content-type text/plain; without one neither header. The server
// header last (ActiveStream::encodeHeaders).
func (h *hcmRuntime) sendLocalReply(w http.ResponseWriter, status int, body string, modify func(http.Header)) {
	hdr := w.Header()
	if modify != nil {
		modify(hdr)
	}
	if body != "" {
		hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
		if len(hdr["Content-Type"]) == 0 {
			hdr["Content-Type"] = []string{apikeyauth.LocalReplyContentType}
		}
	} else {
		delete(hdr, "Content-Length")
		delete(hdr, "Content-Type")
	}
	h.setServer(hdr)
	w.WriteHeader(status)
	if body != "" {
		_, _ = w.Write([]byte(body))
	}
}
