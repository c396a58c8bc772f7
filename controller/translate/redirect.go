package translate

import (
	"fmt"
	"regexp"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// redirectCodes are the status codes Gateway API allows a redirect, as
// Envoy names them. 302 is the API's default; Envoy's (the enum's zero)
// is 301, so the code is always set.
var redirectCodes = map[int]routev3.RedirectAction_RedirectResponseCode{
	301: routev3.RedirectAction_MOVED_PERMANENTLY,
	302: routev3.RedirectAction_FOUND,
	303: routev3.RedirectAction_SEE_OTHER,
	307: routev3.RedirectAction_TEMPORARY_REDIRECT,
	308: routev3.RedirectAction_PERMANENT_REDIRECT,
}

const defaultRedirectCode = 302

// wellKnownPorts are the ports Gateway API ties to a redirect scheme: the
// port a scheme redirect goes to, and one Location leaves out.
var wellKnownPorts = map[string]uint32{"http": 80, "https": 443}

// redirectProblems is what makes a RequestRedirect filter untranslatable on
// rule: values Gateway API says to report as UnsupportedValue (the API
// server rejects them, but may come to allow more), and the combinations
// it forbids.
func redirectProblems(f *gwv1.HTTPRequestRedirectFilter, rule *gwv1.HTTPRouteRule) []string {
	if f == nil {
		return []string{"requestRedirect is not set"}
	}
	var out []string
	if f.Scheme != nil && wellKnownPorts[*f.Scheme] == 0 {
		out = append(out, fmt.Sprintf("scheme %q is not supported: use http or https", *f.Scheme))
	}
	if f.StatusCode != nil {
		if _, ok := redirectCodes[*f.StatusCode]; !ok {
			out = append(out, fmt.Sprintf("statusCode %d is not supported: use 301, 302, 303, 307 or 308", *f.StatusCode))
		}
	}
	if f.Path != nil {
		switch f.Path.Type {
		case gwv1.FullPathHTTPPathModifier:
		case gwv1.PrefixMatchHTTPPathModifier:
			for i, m := range rule.Matches {
				if m.Path != nil && m.Path.Type != nil && *m.Path.Type != gwv1.PathMatchPathPrefix {
					out = append(out, fmt.Sprintf("path type ReplacePrefixMatch needs PathPrefix matches, and matches[%d] is %s", i, *m.Path.Type))
				}
			}
		default:
			out = append(out, fmt.Sprintf("path type %q is not supported: use ReplaceFullPath or ReplacePrefixMatch", f.Path.Type))
		}
	}
	if len(rule.BackendRefs) > 0 {
		// A redirect answers the request itself; Gateway API forbids
		// backends beside it rather than pick one of the two.
		out = append(out, "a RequestRedirect filter cannot be used together with backendRefs")
	}
	return out
}

// redirectAction is a RequestRedirect filter as Envoy's redirect, for
// requests that reached listener l and matched m. Scheme, hostname and
// path change only when the filter says so; Envoy keeps the request's
// otherwise.
func redirectAction(f *gwv1.HTTPRequestRedirectFilter, l *listenerModel, m *compiledMatch) *routev3.RedirectAction {
	code := defaultRedirectCode
	if f.StatusCode != nil {
		code = *f.StatusCode
	}
	rd := &routev3.RedirectAction{ResponseCode: redirectCodes[code], PortRedirect: redirectPort(f, l)}
	if f.Scheme != nil {
		rd.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: *f.Scheme}
	}
	if f.Hostname != nil {
		rd.HostRedirect = string(*f.Hostname)
	}
	if f.Path == nil {
		return rd
	}
	switch f.Path.Type {
	case gwv1.FullPathHTTPPathModifier:
		path := ptr.Deref(f.Path.ReplaceFullPath, "")
		if path == "" {
			path = "/" // an empty path_redirect would keep the request's path
		}
		rd.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: path}
	case gwv1.PrefixMatchHTTPPathModifier:
		setPrefixRedirect(rd, m.match.GetPathSeparatedPrefix(), ptr.Deref(f.Path.ReplacePrefixMatch, ""))
	}
	return rd
}

// redirectPort is the port_redirect of a redirect from listener l, 0 to
// leave Location without a port. Gateway API's port is the filter's, else
// the well-known port of the filter's scheme, else the listener's; and
// Location should leave out the well-known port of its scheme. Envoy,
// though, keeps the port of the request's Host when the filter sets no
// hostname (and removes it only when port_redirect is set). A client
// sends that port when it is not the well-known one of the listener's
// scheme, so in that case the port is written out even when Location
// could have left it out: the redirect must go to the right port.
func redirectPort(f *gwv1.HTTPRequestRedirectFilter, l *listenerModel) uint32 {
	own := listenerScheme(l)
	scheme, port := own, uint32(l.port)
	if f.Scheme != nil {
		scheme, port = *f.Scheme, wellKnownPorts[*f.Scheme]
	}
	if f.Port != nil {
		port = uint32(*f.Port)
	}
	hostKeepsPort := f.Hostname == nil && uint32(l.port) != wellKnownPorts[own]
	if port == wellKnownPorts[scheme] && !hostKeepsPort {
		return 0
	}
	return port
}

// listenerScheme is the scheme of requests to l: HTTPS listeners
// terminate TLS.
func listenerScheme(l *listenerModel) string {
	if l.spec.Protocol == gwv1.HTTPSProtocolType {
		return "https"
	}
	return "http"
}

// setPrefixRedirect replaces prefix, the path elements the route matched
// ("" when it matched "/"), by replacement in Location's path, as Gateway
// API's ReplacePrefixMatch table says: what follows the prefix keeps its
// leading slash, so a trailing slash of the replacement is dropped, and an
// empty replacement leaves a single slash. Envoy replaces exactly the
// matched prefix ("/" for a route matching "/"); an empty prefix_rewrite
// is no rewrite at all, so that case takes a regex: the prefix and the
// slashes after it become "/".
func setPrefixRedirect(rd *routev3.RedirectAction, prefix, replacement string) {
	replacement = strings.TrimRight(replacement, "/")
	switch {
	case replacement == "":
		rd.PathRewriteSpecifier = &routev3.RedirectAction_RegexRewrite{RegexRewrite: &matcherv3.RegexMatchAndSubstitute{
			Pattern:      &matcherv3.RegexMatcher{Regex: "^" + regexp.QuoteMeta(prefix) + "/*"},
			Substitution: "/",
		}}
	case prefix == "":
		rd.PathRewriteSpecifier = &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: replacement + "/"}
	default:
		rd.PathRewriteSpecifier = &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: replacement}
	}
}
