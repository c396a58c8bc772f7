package apikeyauth

import (
	"net/http"
	"strings"

	"github.com/keyconform/keyconform/internal/mutant"
)

type sourceKind uint8

const (
	headerSource sourceKind = iota
	querySource
	cookieSource
)

// keySource is one entry of key_sources: Envoy uses exactly one field of it,
// header if set, else query, else cookie.
type keySource struct {
	kind     sourceKind
	name     string // canonical header name, query parameter name or cookie name
	coalesce bool   // header only: repeated values are joined by "," (see coalesced)
}

func (s keySource) String() string {
	return [...]string{"header", "query", "cookie"}[s.kind] + ":" + s.name
}

// key returns the API key this source holds in req, "" when none.
func (s keySource) key(req *http.Request) string {
	switch s.kind {
	case headerSource:
		return headerKey(req.Header[s.name], s.coalesce)
	case querySource:
		if req.URL == nil {
			return ""
		}
		return firstQueryValue(req.URL.RawQuery, s.name)
	default:
		return cookieValue(req.Header["Cookie"], s.name)
	}
}

// headerKey is Envoy's KeySources::Source::getKey for a header: the first
// value, with a case-sensitive "Bearer " prefix removed whatever the header
// (docs/spec.md KEY-06, KEY-07, KEY-12).
func headerKey(values []string, coalesce bool) string {
	if len(values) == 0 {
		return ""
	}
	v := values[0]
	if mutant.On(mutant.LastHeaderWins) {
		v = values[len(values)-1]
	}
	if coalesce && len(values) > 1 {
		v = joinNonEmpty(values)
	}
	switch {
	case mutant.On(mutant.BearerKept):
		return v
	case mutant.On(mutant.BearerCaseInsensitive) && len(v) >= 7 && strings.EqualFold(v[:7], "Bearer "):
		return v[7:]
	}
	return strings.TrimPrefix(v, "Bearer ")
}

// joinNonEmpty is HeaderMapImpl::appendToHeader applied to each repeated
// value of an inline header: empty values are skipped, others joined by ",".
func joinNonEmpty(values []string) string {
	var b strings.Builder
	for _, v := range values {
		if v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(v)
	}
	return b.String()
}

// remove is Envoy's KeySources::Source::removeKey, applied to every
// configured source when hide_credentials is on.
func (s keySource) remove(req *http.Request) {
	switch s.kind {
	case headerSource:
		delete(req.Header, s.name)
	case querySource:
		if mutant.On(mutant.QueryHidingDropsOthers) && req.URL != nil {
			req.URL.RawQuery = ""
			req.RequestURI, _, _ = strings.Cut(req.RequestURI, "?")
			return
		}
		removeQueryParam(req, s.name)
	default:
		removeCookie(req.Header, s.name)
	}
}

// removeQueryParam rewrites the request's query without the parameter. A
// request with no path (a nil URL, or a CONNECT whose URL holds only the
// authority) has no query and is left alone, as Envoy does since PR #48010.
func removeQueryParam(req *http.Request, name string) {
	u := req.URL
	if u == nil || (u.RawQuery == "" && !u.ForceQuery) {
		return
	}
	q := queryWithout(u.RawQuery, name)
	u.RawQuery, u.ForceQuery = q, false
	if req.RequestURI != "" {
		path, _, _ := strings.Cut(req.RequestURI, "?")
		if q != "" {
			path += "?" + q
		}
		req.RequestURI = path
	}
}
