package translate

import (
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Hostnames here are strings where "" means "any hostname" (a listener or
// route that sets none).

// wildcardCovers reports whether wildcard w ("*.example.com") matches h,
// which may itself be an exact or a narrower wildcard hostname. A wildcard
// matches any number of labels but never the bare suffix ("example.com").
func wildcardCovers(w, h string) bool {
	return strings.HasPrefix(w, "*.") && len(h) > len(w)-1 && strings.HasSuffix(h, w[1:])
}

// intersectHostname returns the hostnames both a and b accept, which Gateway
// API defines as the more specific of the two when one contains the other.
func intersectHostname(a, b string) (string, bool) {
	switch {
	case a == "":
		return b, true
	case b == "", a == b:
		return a, true
	case wildcardCovers(a, b):
		return b, true
	case wildcardCovers(b, a):
		return a, true
	}
	return "", false
}

// effectiveHostnames are the hostnames a route serves through a listener:
// the route's hostnames that intersect the listener's, sorted. An empty
// result means the route cannot attach to that listener.
func effectiveHostnames(listener string, route []gwv1.Hostname) []string {
	if len(route) == 0 {
		return []string{listener}
	}
	var out []string
	for _, h := range route {
		if x, ok := intersectHostname(listener, string(h)); ok {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// listenerCovers reports whether a listener with hostname l receives
// requests for hostname h.
func listenerCovers(l, h string) bool {
	return l == "" || l == h || wildcardCovers(l, h)
}

// moreSpecificListener reports whether listener hostname a takes
// precedence over b: exact before wildcard, wildcards with more labels
// before fewer, and any wildcard before no hostname at all.
func moreSpecificListener(a, b string) bool {
	rank := func(h string) (int, int) {
		switch {
		case h == "":
			return 0, 0
		case strings.HasPrefix(h, "*."):
			return 1, strings.Count(h, ".")
		}
		return 2, 0
	}
	ra, da := rank(a)
	rb, db := rank(b)
	return ra > rb || (ra == rb && da > db)
}

// domainOf is the virtual host domain of a hostname.
func domainOf(h string) string {
	if h == "" {
		return anyHostname
	}
	return h
}
