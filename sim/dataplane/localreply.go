package dataplane

import (
	"context"
	"net/http"
	"strconv"
	"strings"

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
	// reply is how a local reply to the request is sent.
	reply replyForm
}

// replyForm is what a local reply depends on in the request: a gRPC
// request gets a gRPC reply (Grpc::Common::hasGrpcContentType), a HEAD
// request no grpc-message.
type replyForm struct{ grpc, head bool }

func replyFor(r *http.Request) replyForm {
	return replyForm{grpc: isGRPC(r.Header), head: r.Method == http.MethodHead}
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
		return routed{rt: rt, reply: replyFor(r)}
	}
	return routed{rt: rt, wc: rt.pickCluster(), reply: replyFor(r)}
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
	h.sendLocalReply(w, s.reply, status, body, modify)
}

// directReply is the router's reply for a direct response or redirect
// route (Router::Filter::decodeHeaders): the body (formatted by
// body_format), and in the headers a Location for 201 and 3xx (the
// redirect's, or the request's own URI), body_format's content type, then
// the route's response header mutations.
func (h *hcmRuntime) directReply(w http.ResponseWriter, r *http.Request, rt *route) {
	h.sendLocalReply(w, replyFor(r), rt.directStatus, rt.body.render(), func(hdr http.Header) {
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
// header last (ActiveStream::encodeHeaders). To a gRPC request the reply is
// gRPC's trailers-only form: 200, content-type application/grpc,
// grpc-status from the HTTP status (unless modify set one), grpc-message
// the body percent-encoded (not for HEAD), and no body (docs/spec.md
// HCM-01).
func (h *hcmRuntime) sendLocalReply(w http.ResponseWriter, form replyForm, status int, body string, modify func(http.Header)) {
	hdr := w.Header()
	if modify != nil {
		modify(hdr)
	}
	if form.grpc {
		hdr["Content-Type"] = []string{"application/grpc"}
		if len(hdr["Grpc-Status"]) == 0 {
			hdr["Grpc-Status"] = []string{strconv.Itoa(httpToGRPCStatus(status))}
		}
		if body != "" && !form.head {
			// Http::Utility::prepareLocalReply drops one trailing newline
			// (a formatter's) before encoding the body as a header value.
			hdr["Grpc-Message"] = []string{percentEncode(strings.TrimSuffix(body, "\n"))}
		}
		delete(hdr, "Content-Length")
		h.setServer(hdr)
		w.WriteHeader(http.StatusOK)
		return
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

// httpToGRPCStatus is Grpc::Utility::httpToGrpcStatus
// (source/common/grpc/status.cc), gRPC's mapping for intermediaries.
func httpToGRPCStatus(status int) int {
	switch status {
	case http.StatusBadRequest:
		return 13 // INTERNAL
	case http.StatusUnauthorized:
		return 16 // UNAUTHENTICATED
	case http.StatusForbidden:
		return 7 // PERMISSION_DENIED
	case http.StatusNotFound:
		return 12 // UNIMPLEMENTED
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return 14 // UNAVAILABLE
	}
	return 2 // UNKNOWN
}

// percentEncode is Envoy's PercentEncoding::encode with its default
// reserved set: bytes below ' ', from '~' up (so '~' itself), and '%', as
// %XX in upper case (source/common/http/utility.cc: ch < ' ' || ch >= '~').
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c >= '~' || c == '%' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
