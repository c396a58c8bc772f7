package translate

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"golang.org/x/net/http/httpguts"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// headerModifier is a RequestHeaderModifier filter as the route's
// request_headers_to_add and request_headers_to_remove. Envoy removes
// first, then overwrites (set), then appends (add): a header both removed
// and set ends up set, and a client's value of a removed header never
// reaches the backend. Names are lower case, as Envoy keeps them; of
// entries whose names differ only in case, the first counts, as Gateway
// API says for HTTPHeader.
//
// Envoy rejects the whole RouteConfiguration, every route of the port,
// for a name or value it will not modify with, so those make the rule a
// problem instead: the Host header, a name that is not an HTTP token
// (remove entries have no API validation), a value with control
// characters.
func headerModifier(f *gwv1.HTTPHeaderFilter) (add []*corev3.HeaderValueOption, remove []string, problems []string) {
	if f == nil {
		return nil, nil, []string{"requestHeaderModifier is not set"}
	}
	lists := []struct {
		field   string
		headers []gwv1.HTTPHeader
		action  corev3.HeaderValueOption_HeaderAppendAction
	}{
		{"set", f.Set, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD},
		{"add", f.Add, corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD},
	}
	for _, l := range lists {
		seen := map[string]bool{}
		for i, h := range l.headers {
			name := strings.ToLower(string(h.Name))
			if why := headerNameProblem(name); why != "" {
				problems = append(problems, fmt.Sprintf("%s[%d] %q: %s", l.field, i, h.Name, why))
				continue
			}
			if !httpguts.ValidHeaderFieldValue(h.Value) {
				problems = append(problems, fmt.Sprintf("%s[%d] %q: the value has control characters", l.field, i, h.Name))
				continue
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			add = append(add, &corev3.HeaderValueOption{
				// Envoy reads a value as a format string, where '%' starts
				// a command; Gateway API values are literal text.
				Header:       &corev3.HeaderValue{Key: name, Value: strings.ReplaceAll(h.Value, "%", "%%")},
				AppendAction: l.action,
			})
		}
	}
	seen := map[string]bool{}
	for i, n := range f.Remove {
		name := strings.ToLower(n)
		if why := headerNameProblem(name); why != "" {
			problems = append(problems, fmt.Sprintf("remove[%d] %q: %s", i, n, why))
			continue
		}
		if !seen[name] {
			seen[name] = true
			remove = append(remove, name)
		}
	}
	return add, remove, problems
}

// headerNameProblem says why Envoy would not modify a request header by
// this (lower case) name, or "" when it would.
func headerNameProblem(name string) string {
	switch {
	case !httpguts.ValidHeaderFieldName(name):
		return "not an HTTP header name"
	case name == "host":
		return "the Host header cannot be modified by this filter"
	}
	return ""
}
