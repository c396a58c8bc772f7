package dataplane

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// Transport protocols as Envoy detects them: "tls" from a TLS ClientHello,
// "raw_buffer" for anything else (Envoy's default when no listener filter
// says otherwise).
const (
	transportTLS = "tls"
	transportRaw = "raw_buffer"
)

// chainSpec is a compiled FilterChain: what connections it takes, how they
// are decrypted, and the connection manager that serves them.
type chainSpec struct {
	name  string
	match chainMatch
	tls   *downstreamTLS // nil: plain text
	hcm   *hcmSpec
}

// chainMatch is a compiled FilterChainMatch; zero values match anything.
type chainMatch struct {
	destinationPort uint32
	serverNames     []string // exact names and "*.suffix" wildcards
	transport       string
	alpn            []string
}

// connAttrs is what Envoy knows of a connection when it picks its filter
// chain: the port it arrived on, and what the TLS inspector read from the
// ClientHello.
type connAttrs struct {
	destinationPort uint32
	transport       string
	sni             string
	alpn            []string // offered by the client, in its order
}

func (m chainMatch) needsInspection() bool {
	return len(m.serverNames) > 0 || m.transport != "" || len(m.alpn) > 0
}

func compileFilterChain(fc *listenerv3.FilterChain) (*chainSpec, error) {
	c := &chainSpec{name: fc.GetName()}
	if m := fc.GetFilterChainMatch(); m != nil {
		c.match = chainMatch{
			destinationPort: m.GetDestinationPort().GetValue(),
			serverNames:     m.GetServerNames(),
			transport:       m.GetTransportProtocol(),
			alpn:            m.GetApplicationProtocols(),
		}
		for _, n := range c.match.serverNames {
			if strings.Contains(n, "*") && (!strings.HasPrefix(n, "*.") || strings.Count(n, "*") > 1) {
				// Envoy's message (FilterChainManagerImpl::addFilterChains).
				return nil, fmt.Errorf("error adding listener: partial wildcards are not supported in \"server_names\": %q", n)
			}
		}
	}
	if ts := fc.GetTransportSocket(); ts != nil {
		t, err := compileTransportSocket(ts)
		if err != nil {
			return nil, fmt.Errorf("transport_socket: %w", err)
		}
		c.tls = t
	}
	if len(fc.GetFilters()) != 1 || fc.GetFilters()[0].GetTypedConfig() == nil {
		return nil, errors.New("the sim implements one network filter per chain: envoy.filters.network.http_connection_manager with a typed_config")
	}
	m, err := unpack(fc.GetFilters()[0].GetTypedConfig())
	if err != nil {
		return nil, err
	}
	h, ok := m.(*hcmv3.HttpConnectionManager)
	if !ok {
		return nil, fmt.Errorf("network filter %s is not implemented by the sim", fc.GetFilters()[0].GetTypedConfig().GetTypeUrl())
	}
	c.hcm, err = compileHCM(h)
	if err != nil {
		return nil, fmt.Errorf("http_connection_manager: %w", err)
	}
	return c, nil
}

// checkDistinctMatches refuses chains that two could take the same
// connection by, as Envoy refuses the listener.
func checkDistinctMatches(chains []*chainSpec) error {
	seen := map[string]string{}
	for i, c := range chains {
		for _, key := range c.match.keys() {
			if other, dup := seen[key]; dup {
				return fmt.Errorf("multiple filter chains with the same matching rules are defined: %s and %s", other, chainLabel(c, i))
			}
			seen[key] = chainLabel(c, i)
		}
	}
	return nil
}

func chainLabel(c *chainSpec, i int) string {
	if c.name != "" {
		return fmt.Sprintf("%q", c.name)
	}
	return fmt.Sprintf("filter_chains[%d]", i)
}

// keys expands the match into one key per combination of its lists.
func (m chainMatch) keys() []string {
	orAny := func(v []string) []string {
		if len(v) == 0 {
			return []string{""}
		}
		return v
	}
	var out []string
	for _, sni := range orAny(m.serverNames) {
		for _, alpn := range orAny(m.alpn) {
			out = append(out, fmt.Sprintf("%d\x00%s\x00%s\x00%s", m.destinationPort, sni, m.transport, alpn))
		}
	}
	return out
}

// selectChain is FilterChainManagerImpl::findFilterChain for the criteria
// the sim implements: destination port, server name, transport protocol,
// application protocol, in that order. At each level the most specific
// criterion present wins and the choice is final: a connection that then
// fails a later level matches nothing, rather than falling back to a less
// specific chain. -1 means no chain matches.
func selectChain(chains []*chainSpec, a connAttrs) int {
	candidates := make([]int, 0, len(chains))
	for i := range chains {
		candidates = append(candidates, i)
	}
	levels := []func([]int) []int{
		func(in []int) []int {
			return narrow(in, func(i int) bool { return chains[i].match.destinationPort == a.destinationPort },
				func(i int) bool { return chains[i].match.destinationPort == 0 })
		},
		func(in []int) []int { return narrowServerName(chains, in, a.sni) },
		func(in []int) []int {
			return narrow(in, func(i int) bool { return a.transport != "" && chains[i].match.transport == a.transport },
				func(i int) bool { return chains[i].match.transport == "" })
		},
		func(in []int) []int {
			for _, p := range a.alpn {
				if out := filterIdx(in, func(i int) bool { return slices.Contains(chains[i].match.alpn, p) }); len(out) > 0 {
					return out
				}
			}
			return filterIdx(in, func(i int) bool { return len(chains[i].match.alpn) == 0 })
		},
	}
	for _, level := range levels {
		if candidates = level(candidates); len(candidates) == 0 {
			return -1
		}
	}
	// checkDistinctMatches leaves at most one.
	return candidates[0]
}

// narrow keeps the candidates that match exactly, or when none does, those
// that do not care.
func narrow(in []int, exact, any func(int) bool) []int {
	if out := filterIdx(in, exact); len(out) > 0 {
		return out
	}
	return filterIdx(in, any)
}

// narrowServerName: the exact name, then the longest wildcard suffix
// ("*.b.example.com" before "*.example.com"), then chains without server
// names.
func narrowServerName(chains []*chainSpec, in []int, sni string) []int {
	has := func(name string) func(int) bool {
		return func(i int) bool { return slices.Contains(chains[i].match.serverNames, name) }
	}
	if sni != "" {
		if out := filterIdx(in, has(sni)); len(out) > 0 {
			return out
		}
		for rest := sni; ; {
			dot := strings.IndexByte(rest, '.')
			if dot < 0 {
				break
			}
			rest = rest[dot+1:]
			if out := filterIdx(in, has("*."+rest)); len(out) > 0 {
				return out
			}
		}
	}
	return filterIdx(in, func(i int) bool { return len(chains[i].match.serverNames) == 0 })
}

func filterIdx(in []int, keep func(int) bool) []int {
	var out []int
	for _, i := range in {
		if keep(i) {
			out = append(out, i)
		}
	}
	return out
}
