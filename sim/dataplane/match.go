package dataplane

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// stringMatch is envoy.type.matcher.v3.StringMatcher.
type stringMatch struct {
	exact, prefix, suffix, contains *string
	re                              *regexp.Regexp
	ignoreCase                      bool
}

func compileStringMatch(m *matcherv3.StringMatcher) (stringMatch, error) {
	s := stringMatch{ignoreCase: m.GetIgnoreCase()}
	lower := func(v string) *string {
		if s.ignoreCase {
			v = strings.ToLower(v)
		}
		return &v
	}
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		s.exact = lower(p.Exact)
	case *matcherv3.StringMatcher_Prefix:
		s.prefix = lower(p.Prefix)
	case *matcherv3.StringMatcher_Suffix:
		s.suffix = lower(p.Suffix)
	case *matcherv3.StringMatcher_Contains:
		s.contains = lower(p.Contains)
	case *matcherv3.StringMatcher_SafeRegex:
		re, err := compileRegex(p.SafeRegex.GetRegex())
		if err != nil {
			return s, err
		}
		s.re = re
	default:
		return s, fmt.Errorf("string matcher %T is not implemented by the sim", p)
	}
	return s, nil
}

func (s stringMatch) match(v string) bool {
	if s.re != nil {
		return s.re.MatchString(v)
	}
	if s.ignoreCase {
		v = strings.ToLower(v)
	}
	switch {
	case s.exact != nil:
		return v == *s.exact
	case s.prefix != nil:
		return strings.HasPrefix(v, *s.prefix)
	case s.suffix != nil:
		return strings.HasSuffix(v, *s.suffix)
	default:
		return strings.Contains(v, *s.contains)
	}
}

// compileRegex compiles an RE2 pattern for a full match, as Envoy's
// safe_regex matchers do.
func compileRegex(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil, fmt.Errorf("invalid regex %q: %w", pattern, err)
	}
	return re, nil
}

// headerMatch is envoy.config.route.v3.HeaderMatcher, evaluated as
// Http::HeaderUtility::matchHeaders: repeated headers are joined by ",",
// a missing header only satisfies present_match: false (or its inversion).
type headerMatch struct {
	name           string // canonical form, or a pseudo-header
	invert         bool
	missingAsEmpty bool
	present        *bool // present_match; also the default when nothing is set
	exactOrAny     *string
	rangeStart     int64
	rangeEnd       int64
	isRange        bool
	str            *stringMatch
}

func compileHeaderMatch(h *routev3.HeaderMatcher) (headerMatch, error) {
	m := headerMatch{name: canonicalHeader(h.GetName()), invert: h.GetInvertMatch(), missingAsEmpty: h.GetTreatMissingHeaderAsEmpty()}
	sm := func(sm *matcherv3.StringMatcher) error {
		s, err := compileStringMatch(sm)
		m.str = &s
		return err
	}
	var err error
	switch spec := h.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_ExactMatch:
		m.exactOrAny = &spec.ExactMatch
	case *routev3.HeaderMatcher_SafeRegexMatch:
		err = sm(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: spec.SafeRegexMatch}})
	case *routev3.HeaderMatcher_RangeMatch:
		m.isRange, m.rangeStart, m.rangeEnd = true, spec.RangeMatch.GetStart(), spec.RangeMatch.GetEnd()
	case *routev3.HeaderMatcher_PresentMatch:
		m.present = &spec.PresentMatch
	case *routev3.HeaderMatcher_PrefixMatch:
		err = sm(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: spec.PrefixMatch}})
	case *routev3.HeaderMatcher_SuffixMatch:
		err = sm(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: spec.SuffixMatch}})
	case *routev3.HeaderMatcher_ContainsMatch:
		err = sm(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Contains{Contains: spec.ContainsMatch}})
	case *routev3.HeaderMatcher_StringMatch:
		err = sm(spec.StringMatch)
	case nil:
		t := true
		m.present = &t
	}
	if err != nil {
		return m, fmt.Errorf("header matcher %q: %w", h.GetName(), err)
	}
	return m, nil
}

func (m headerMatch) match(r *http.Request) bool {
	value, found := headerValue(r, m.name)
	if !found && !m.missingAsEmpty {
		if m.invert {
			return m.present != nil && *m.present
		}
		return m.present != nil && !*m.present
	}
	var ok bool
	switch {
	case m.exactOrAny != nil:
		ok = *m.exactOrAny == "" || value == *m.exactOrAny
	case m.isRange:
		n, err := strconv.ParseInt(value, 10, 64)
		ok = err == nil && n >= m.rangeStart && n < m.rangeEnd
	case m.present != nil:
		ok = *m.present
	default:
		ok = m.str.match(value)
	}
	return ok != m.invert
}

func canonicalHeader(name string) string {
	if strings.HasPrefix(name, ":") {
		return strings.ToLower(name)
	}
	return http.CanonicalHeaderKey(name)
}

// headerValue returns a request header the way Envoy sees it: pseudo
// headers from the request line, the host from r.Host, repeated headers
// joined by ",".
func headerValue(r *http.Request, name string) (string, bool) {
	switch name {
	case ":authority", "Host":
		return r.Host, r.Host != ""
	case ":method":
		return r.Method, true
	case ":path":
		return r.RequestURI, r.RequestURI != ""
	case ":scheme":
		return requestScheme(r), true
	}
	vs := r.Header[name]
	switch len(vs) {
	case 0:
		return "", false
	case 1:
		return vs[0], true
	}
	return strings.Join(vs, ","), true
}

// queryMatch is envoy.config.route.v3.QueryParameterMatcher
// (ConfigUtility::QueryParameterMatcher in source/common/router/
// config_utility.cc). Like Envoy's route matching it reads the raw (not
// percent-decoded) query and the first value of a repeated parameter.
// present_match is its new behaviour (the runtime guard
// enable_new_query_param_present_match_behavior, on by default since Envoy
// 1.34): the parameter's presence must equal it.
type queryMatch struct {
	name    string
	present *bool
	str     *stringMatch // nil with present: a presence match
}

func compileQueryMatch(q *routev3.QueryParameterMatcher) (queryMatch, error) {
	m := queryMatch{name: q.GetName()}
	if p, ok := q.GetQueryParameterMatchSpecifier().(*routev3.QueryParameterMatcher_PresentMatch); ok {
		m.present = &p.PresentMatch
	}
	if sm := q.GetStringMatch(); sm != nil {
		s, err := compileStringMatch(sm)
		if err != nil {
			return m, fmt.Errorf("query parameter matcher %q: %w", q.GetName(), err)
		}
		m.str = &s
	}
	return m, nil
}

func (m queryMatch) match(rawQuery string) bool {
	v, ok := firstRawParam(rawQuery, m.name)
	if m.present != nil {
		return ok == *m.present
	}
	if !ok {
		return false
	}
	return m.str == nil || m.str.match(v)
}

func firstRawParam(rawQuery, name string) (string, bool) {
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == name {
			return v, true
		}
	}
	return "", false
}

// cookieMatch is envoy.config.route.v3.CookieMatcher
// (ConfigUtility::CookieMatcher::matches and matchCookies in
// source/common/router/config_utility.cc): the named cookie's value
// against string_match; a missing cookie does not match; invert_match
// inverts either.
type cookieMatch struct {
	name   string
	str    stringMatch
	invert bool
}

func compileCookieMatch(c *routev3.CookieMatcher) (cookieMatch, error) {
	s, err := compileStringMatch(c.GetStringMatch())
	if err != nil {
		return cookieMatch{}, fmt.Errorf("cookie matcher %q: %w", c.GetName(), err)
	}
	return cookieMatch{name: c.GetName(), str: s, invert: c.GetInvertMatch()}, nil
}

func (m cookieMatch) match(cookies map[string]string) bool {
	v, ok := cookies[m.name]
	return (ok && m.str.match(v)) != m.invert
}

// parseCookies is Http::Utility::parseCookies (source/common/http/
// utility.cc, forEachCookie): every Cookie header in order, split on ';';
// the name runs from the first non-space to the first '=' (a piece
// without '=' is skipped), the value is the rest, without surrounding
// double quotes; the first cookie of a name wins.
func parseCookies(headers []string) map[string]string {
	out := map[string]string{}
	for _, h := range headers {
		for _, s := range strings.Split(h, ";") {
			if s == "" {
				continue // StringUtil::splitToken drops empty pieces
			}
			eq := strings.IndexByte(s, '=')
			if eq < 0 {
				continue
			}
			start := len(s) - len(strings.TrimLeft(s, " "))
			if start > eq {
				start = eq
			}
			k, v := s[start:eq], s[eq+1:]
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if _, dup := out[k]; !dup {
				out[k] = v
			}
		}
	}
	return out
}
