package translate

import (
	"fmt"
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ruleFilters is what an HTTPRoute rule's filters make of its routes. The
// controller implements the core filters RequestHeaderModifier and
// RequestRedirect; a rule using any other filter, a filter on a
// backendRef, or a value it cannot express answers 500 instead (problems
// says why), rather than forward in a way the rule did not ask for.
type ruleFilters struct {
	headersToAdd    []*corev3.HeaderValueOption
	headersToRemove []string
	// redirect is finished per route by redirectAction: the Location's port
	// depends on the listener, a prefix replacement on the match.
	redirect *gwv1.HTTPRequestRedirectFilter
	problems []string
}

// compileFilters reads a rule's filters once, whatever listeners its routes
// end up on.
func compileFilters(rule *gwv1.HTTPRouteRule) ruleFilters {
	var rf ruleFilters
	var unsupported, onBackends []string
	seen := map[gwv1.HTTPRouteFilterType]bool{}
	for i := range rule.Filters {
		f := &rule.Filters[i]
		var errs []string
		switch {
		case f.Type != gwv1.HTTPRouteFilterRequestHeaderModifier && f.Type != gwv1.HTTPRouteFilterRequestRedirect:
			unsupported = append(unsupported, string(f.Type))
			continue
		case seen[f.Type]:
			// The API rejects a repeated filter; one that got through would
			// otherwise silently replace the first.
			errs = []string{"the filter may be used once per rule"}
		case f.Type == gwv1.HTTPRouteFilterRequestHeaderModifier:
			rf.headersToAdd, rf.headersToRemove, errs = headerModifier(f.RequestHeaderModifier)
		default:
			rf.redirect, errs = f.RequestRedirect, redirectProblems(f.RequestRedirect, rule)
		}
		seen[f.Type] = true
		for _, e := range errs {
			rf.problems = append(rf.problems, fmt.Sprintf("filters[%d] (%s): %s", i, f.Type, e))
		}
	}
	for _, b := range rule.BackendRefs {
		for _, f := range b.Filters {
			onBackends = append(onBackends, string(f.Type))
		}
	}
	if kinds := distinct(unsupported); kinds != "" {
		rf.problems = append(rf.problems, fmt.Sprintf("filters (%s) are not supported by this controller", kinds))
	}
	if kinds := distinct(onBackends); kinds != "" {
		rf.problems = append(rf.problems, fmt.Sprintf("backendRefs filters (%s) are not supported by this controller", kinds))
	}
	return rf
}

// message is the Accepted=False message of a rule whose filters cannot be
// translated.
func (rf *ruleFilters) message() string {
	return strings.Join(rf.problems, "; ") + "; the rule answers 500"
}

// distinct lists names once each, sorted.
func distinct(names []string) string {
	slices.Sort(names)
	return strings.Join(slices.Compact(names), ", ")
}
