package translate

import (
	"fmt"
	"regexp"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Path match kinds in precedence order: Gateway API puts Exact before
// PathPrefix and leaves RegularExpression to the implementation; like Envoy
// Gateway, regular expressions go between the two.
const (
	pathExact = iota
	pathRegex
	pathPrefix
)

// compiledMatch is one HTTPRouteMatch as an Envoy RouteMatch, with what
// route precedence needs to know about it.
type compiledMatch struct {
	index    int
	match    *routev3.RouteMatch
	pathKind int
	pathLen  int
	method   bool
	headers  int
	queries  int
}

// compileMatch translates one match. An error means the match cannot be
// expressed safely (an invalid regular expression would make Envoy reject
// the whole RouteConfiguration), so the caller drops it.
func compileMatch(index int, m *gwv1.HTTPRouteMatch) (*compiledMatch, error) {
	c := &compiledMatch{index: index, match: &routev3.RouteMatch{}}
	if err := c.setPath(m.Path); err != nil {
		return nil, err
	}
	seenHeaders := map[string]bool{}
	for i, h := range m.Headers {
		// Header names are case-insensitive; only the first of equivalent names counts.
		name := strings.ToLower(string(h.Name))
		if seenHeaders[name] {
			continue
		}
		seenHeaders[name] = true
		sm, err := stringMatch(h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression, h.Value)
		if err != nil {
			return nil, fmt.Errorf("headers[%d] (%s): %w", i, h.Name, err)
		}
		c.match.Headers = append(c.match.Headers, &routev3.HeaderMatcher{
			Name:                 name,
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm},
		})
		c.headers++
	}
	seenQueries := map[string]bool{}
	for i, q := range m.QueryParams {
		// Query parameter names are case-sensitive; only the first of equal names counts.
		name := string(q.Name)
		if seenQueries[name] {
			continue
		}
		seenQueries[name] = true
		sm, err := stringMatch(q.Type != nil && *q.Type == gwv1.QueryParamMatchRegularExpression, q.Value)
		if err != nil {
			return nil, fmt.Errorf("queryParams[%d] (%s): %w", i, q.Name, err)
		}
		c.match.QueryParameters = append(c.match.QueryParameters, &routev3.QueryParameterMatcher{
			Name:                         name,
			QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: sm},
		})
		c.queries++
	}
	if m.Method != nil {
		c.match.Headers = append(c.match.Headers, &routev3.HeaderMatcher{
			Name: ":method",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_Exact{Exact: string(*m.Method)},
			}},
		})
		c.method = true
	}
	return c, nil
}

func (c *compiledMatch) setPath(p *gwv1.HTTPPathMatch) error {
	kind, value := gwv1.PathMatchPathPrefix, "/"
	if p != nil {
		if p.Type != nil {
			kind = *p.Type
		}
		if p.Value != nil {
			value = *p.Value
		}
	}
	c.pathLen = len(value)
	switch kind {
	case gwv1.PathMatchExact:
		c.pathKind = pathExact
		c.match.PathSpecifier = &routev3.RouteMatch_Path{Path: value}
	case gwv1.PathMatchRegularExpression:
		if _, err := regexp.Compile(value); err != nil {
			return fmt.Errorf("path: invalid regular expression: %w", err)
		}
		c.pathKind = pathRegex
		c.match.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: value}}
	case gwv1.PathMatchPathPrefix:
		c.pathKind = pathPrefix
		// Gateway API prefixes match whole path elements and ignore a
		// trailing slash: Envoy's path_separated_prefix, which takes the
		// value without it.
		trimmed := strings.TrimSuffix(value, "/")
		switch {
		case trimmed == "":
			c.match.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: "/"}
		case validSeparatedPrefix(trimmed):
			c.match.PathSpecifier = &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: trimmed}
		default:
			return fmt.Errorf("path: prefix %q cannot be matched by path element", value)
		}
	default:
		return fmt.Errorf("path: unsupported match type %q", kind)
	}
	return nil
}

// validSeparatedPrefix mirrors Envoy's rule for path_separated_prefix:
// ^[^?#]+[^?#/]$.
func validSeparatedPrefix(p string) bool {
	return p != "" && !strings.ContainsAny(p, "?#") && !strings.HasSuffix(p, "/")
}

func stringMatch(regex bool, value string) (*matcherv3.StringMatcher, error) {
	if !regex {
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: value}}, nil
	}
	if _, err := regexp.Compile(value); err != nil {
		return nil, fmt.Errorf("invalid regular expression: %w", err)
	}
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{
		SafeRegex: &matcherv3.RegexMatcher{Regex: value},
	}}, nil
}
