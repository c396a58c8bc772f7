package dataplane

import (
	"strings"
	"testing"
)

// Filter chain selection, criterion by criterion, as Envoy's
// FilterChainManagerImpl::findFilterChain: the most specific match at each
// level is final.
func TestSelectChain(t *testing.T) {
	chains := []*chainSpec{
		{name: "exact", match: chainMatch{serverNames: []string{"a.example.com"}}},
		{name: "wildcard", match: chainMatch{serverNames: []string{"*.example.com"}}},
		{name: "deeper-wildcard", match: chainMatch{serverNames: []string{"*.b.example.com"}}},
		{name: "raw-only", match: chainMatch{serverNames: []string{"plain.example.com"}, transport: transportRaw}},
		{name: "h2-only", match: chainMatch{serverNames: []string{"alpn.example.com"}, alpn: []string{"h2"}}},
		{name: "alpn-any", match: chainMatch{serverNames: []string{"alpn.example.com"}}},
		{name: "port-9443", match: chainMatch{destinationPort: 9443}},
		{name: "any", match: chainMatch{}},
	}
	if err := checkDistinctMatches(chains); err != nil {
		t.Fatal(err)
	}
	tlsTo := func(sni string, alpn ...string) connAttrs {
		return connAttrs{destinationPort: 443, transport: transportTLS, sni: sni, alpn: alpn}
	}
	for _, tc := range []struct {
		name string
		conn connAttrs
		want string // "" for no chain
	}{
		{"exact server name", tlsTo("a.example.com"), "exact"},
		{"wildcard", tlsTo("c.example.com"), "wildcard"},
		{"longest wildcard suffix", tlsTo("x.b.example.com"), "deeper-wildcard"},
		{"wildcard at any depth", tlsTo("x.y.z.example.com"), "wildcard"},
		{"a wildcard does not match its own suffix", tlsTo("example.com"), "any"},
		{"unknown name falls to the chain without names", tlsTo("other.test"), "any"},
		{"no SNI", tlsTo(""), "any"},
		{"plain text", connAttrs{destinationPort: 443, transport: transportRaw}, "any"},
		{"server name chosen, then transport fails: no fallback", tlsTo("plain.example.com"), ""},
		{"the client's first offered protocol that a chain names", tlsTo("alpn.example.com", "h2", "http/1.1"), "h2-only"},
		{"no protocol named: the chain without protocols", tlsTo("alpn.example.com", "http/1.1"), "alpn-any"},
		{"destination port before server name", connAttrs{destinationPort: 9443, transport: transportTLS, sni: "a.example.com"}, "port-9443"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if i := selectChain(chains, tc.conn); i >= 0 {
				got = chains[i].name
			}
			if got != tc.want {
				t.Errorf("chain %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckDistinctMatches(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chains []chainMatch
		want   string // "" accepted
	}{
		{"distinct names", []chainMatch{{serverNames: []string{"a.test"}}, {serverNames: []string{"b.test"}}, {}}, ""},
		{"two catch-alls", []chainMatch{{}, {}}, "multiple filter chains with the same matching rules are defined: filter_chains[0] and filter_chains[1]"},
		{"overlap in a list", []chainMatch{{serverNames: []string{"a.test", "b.test"}}, {serverNames: []string{"b.test"}}}, "multiple filter chains"},
		{"same name, different transport", []chainMatch{{serverNames: []string{"a.test"}, transport: transportTLS}, {serverNames: []string{"a.test"}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var chains []*chainSpec
			for _, m := range tc.chains {
				chains = append(chains, &chainSpec{match: m})
			}
			err := checkDistinctMatches(chains)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
