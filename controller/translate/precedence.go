package translate

import (
	"cmp"
)

// routeEntry is one match of one rule of an attached route, on its way to
// becoming an Envoy route in a virtual host.
type routeEntry struct {
	att   *attachment
	rule  *ruleModel
	match *compiledMatch
}

// comparePrecedence orders entries as Gateway API requires Envoy's
// first-match route list to be: Exact path, then (implementation-specific)
// RegularExpression, then PathPrefix, longer values first; then method
// matches, more header matches, more query parameter matches; then the
// oldest route, then namespace/name, then rule and match order.
func comparePrecedence(a, b *routeEntry) int {
	ma, mb := a.match, b.match
	return cmp.Or(
		cmp.Compare(ma.pathKind, mb.pathKind),
		cmp.Compare(mb.pathLen, ma.pathLen),
		compareTrueFirst(ma.method, mb.method),
		cmp.Compare(mb.headers, ma.headers),
		cmp.Compare(mb.queries, ma.queries),
		byAge(a.att.route, b.att.route),
		cmp.Compare(a.rule.index, b.rule.index),
		cmp.Compare(ma.index, mb.index),
	)
}

func compareTrueFirst(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}
