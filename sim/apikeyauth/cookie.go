package apikeyauth

import (
	"iter"
	"net/http"
	"strings"

	"github.com/keyconform/keyconform/internal/mutant"
)

// cookies yields each name and value of the Cookie header values in order,
// as Envoy's Http::Utility forEachCookie parses them: every Cookie header,
// split on ';' (empty pieces skipped); leading spaces before the name
// dropped; a piece without '=' skipped; the value is everything after the
// first '=', with one pair of surrounding double quotes removed.
func cookies(values []string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, value := range values {
			for piece := range strings.SplitSeq(value, ";") {
				eq := strings.IndexByte(piece, '=')
				if eq < 0 {
					continue
				}
				name := strings.TrimLeft(piece[:eq], " ")
				v := piece[eq+1:]
				if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				if !yield(name, v) {
					return
				}
			}
		}
	}
}

// cookieValue is Http::Utility::parseCookieValue: the value of the first
// cookie with exactly this name, "" when absent.
func cookieValue(values []string, name string) string {
	for n, v := range cookies(values) {
		if n == name {
			return v
		}
	}
	return ""
}

// removeCookie is Http::Utility::removeCookieValue: every Cookie header is
// replaced by one holding the other cookies as parsed above, "name=value"
// joined by "; ", or dropped when none remain.
func removeCookie(h http.Header, name string) {
	values := h["Cookie"]
	if len(values) == 0 {
		return
	}
	if mutant.On(mutant.CookieHidingDropsOthers) {
		delete(h, "Cookie")
		return
	}
	var b strings.Builder
	kept := false
	for n, v := range cookies(values) {
		if n == name {
			continue
		}
		if kept {
			b.WriteString("; ")
		}
		kept = true
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(v)
	}
	delete(h, "Cookie")
	if kept {
		h["Cookie"] = []string{b.String()}
	}
}
