// Package podnet is the simulated pod network. EndpointSlices carry virtual
// pod IPs (the real API server rejects loopback endpoints); the data plane
// reaches a virtual IP:port only through this map, which points each one at
// a loopback listener. An address that is not in the map is never dialled:
// that is the project's hard rule that no traffic leaves loopback.
package podnet

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DialTimeout bounds connecting to a mapped loopback address; it matches the
// clusters' connect_timeout of 5s that the translator emits.
const DialTimeout = 5 * time.Second

// Network maps virtual pod addresses (IP:port) to loopback addresses. It is
// safe for concurrent use.
type Network struct {
	mu       sync.RWMutex
	routes   map[netip.AddrPort]netip.AddrPort
	hosts    map[string]netip.Addr
	services map[netip.AddrPort][]netip.AddrPort
	next     uint64 // round robin over a Service's endpoints
	refusals map[string]uint64
	// open are the live connections by loopback target, for Sever.
	open map[string]map[*trackedConn]struct{}

	// dial reaches a mapped loopback address; a field so that tests can
	// observe which addresses are actually dialled.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns an empty network.
func New() *Network {
	d := &net.Dialer{Timeout: DialTimeout}
	return &Network{
		routes:   make(map[netip.AddrPort]netip.AddrPort),
		hosts:    make(map[string]netip.Addr),
		services: make(map[netip.AddrPort][]netip.AddrPort),
		refusals: make(map[string]uint64),
		open:     make(map[string]map[*trackedConn]struct{}),
		dial:     d.DialContext,
	}
}

// Add maps virtual (IP:port) to local, which must be a loopback IP:port with
// a non-zero port. Adding a virtual address again replaces its target.
func (n *Network) Add(virtual, local string) error {
	v, err := parseAddrPort(virtual)
	if err != nil {
		return fmt.Errorf("podnet: virtual address %q: %w", virtual, err)
	}
	l, err := parseAddrPort(local)
	if err != nil {
		return fmt.Errorf("podnet: local address %q for %s: %w", local, virtual, err)
	}
	if !l.Addr().IsLoopback() {
		return fmt.Errorf("podnet: local address %q for %s is not loopback; the simulated pod network only reaches 127.0.0.0/8 or ::1", local, virtual)
	}
	if l.Port() == 0 {
		return fmt.Errorf("podnet: local address %q for %s has port 0; give the port the backend listens on", local, virtual)
	}
	n.mu.Lock()
	n.routes[v] = l
	n.mu.Unlock()
	return nil
}

// AddAll adds every mapping, stopping at the first error.
func (n *Network) AddAll(ms []Mapping) error {
	for _, m := range ms {
		if err := n.Add(m.Virtual, m.Local); err != nil {
			return err
		}
	}
	return nil
}

// Remove deletes the mapping of virtual, if any.
func (n *Network) Remove(virtual string) {
	v, err := parseAddrPort(virtual)
	if err != nil {
		return
	}
	n.mu.Lock()
	delete(n.routes, v)
	n.mu.Unlock()
}

// Lookup returns the loopback address virtual is mapped to. virtual may
// name a host known to the network (a Service's DNS name) or a Service's
// virtual IP, which are resolved as cluster DNS and kube-proxy would: the
// name to its IP, the Service IP:port to one of its endpoints, in turn.
func (n *Network) Lookup(virtual string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	v, err := n.resolveLocked(virtual)
	if err != nil {
		return "", false
	}
	if eps := n.services[v]; len(eps) > 0 {
		v = eps[n.next%uint64(len(eps))]
		n.next++
	}
	l, ok := n.routes[v]
	if !ok {
		return "", false
	}
	return l.String(), true
}

// resolveLocked turns "host:port" into an IP:port, through the host table
// when host is a name.
func (n *Network) resolveLocked(hostport string) (netip.AddrPort, error) {
	if v, err := parseAddrPort(hostport); err == nil {
		return v, nil
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ip, ok := n.hosts[canonicalHost(host)]
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("podnet: no host %q", host)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("podnet: port %q: %w", port, err)
	}
	return netip.AddrPortFrom(ip, uint16(p)), nil
}

// canonicalHost is how names are keyed: DNS is case-insensitive, and a
// fully qualified name's trailing dot names the same host.
func canonicalHost(h string) string {
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// SetHosts replaces the host table: DNS names (e.g.
// "keyconform-controller.kgateway-system.svc.cluster.local") and the
// virtual IP each resolves to.
func (n *Network) SetHosts(hosts map[string]netip.Addr) {
	table := make(map[string]netip.Addr, len(hosts))
	for h, ip := range hosts {
		table[canonicalHost(h)] = ip.Unmap()
	}
	n.mu.Lock()
	n.hosts = table
	n.mu.Unlock()
}

// SetServices replaces the Service table: each Service virtual IP:port and
// the endpoint addresses (virtual IP:port, themselves mapped with Add) a
// connection to it reaches, taken in turn.
func (n *Network) SetServices(services map[netip.AddrPort][]netip.AddrPort) {
	table := make(map[netip.AddrPort][]netip.AddrPort, len(services))
	for vip, eps := range services {
		table[netip.AddrPortFrom(vip.Addr().Unmap(), vip.Port())] = slices.Clone(eps)
	}
	n.mu.Lock()
	n.services = table
	n.mu.Unlock()
}

// Refusals returns how many times each unmapped address was refused.
func (n *Network) Refusals() map[string]uint64 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return maps.Clone(n.refusals)
}

// DialContext connects to the loopback address that addr is mapped to. It
// refuses any address that is not in the map with a *RefusedError and never
// dials it, whatever it is (a loopback address not in the map included).
func (n *Network) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	target, ok := n.Lookup(addr)
	if !ok {
		n.mu.Lock()
		n.refusals[addr]++
		n.mu.Unlock()
		return nil, &RefusedError{Addr: addr}
	}
	c, err := n.dial(ctx, network, target)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, net: n, target: target}
	n.mu.Lock()
	if n.open[target] == nil {
		n.open[target] = map[*trackedConn]struct{}{}
	}
	n.open[target][tc] = struct{}{}
	n.mu.Unlock()
	return tc, nil
}

// Sever closes every open connection to the loopback address local, as a
// network fault would (an xDS stream cut, say), and returns how many it
// closed. Later dials are not refused.
func (n *Network) Sever(local string) int {
	n.mu.Lock()
	conns := n.open[local]
	delete(n.open, local)
	n.mu.Unlock()
	for c := range conns {
		_ = c.Conn.Close()
	}
	return len(conns)
}

// trackedConn forgets itself on Close.
type trackedConn struct {
	net.Conn
	net    *Network
	target string
}

func (c *trackedConn) Close() error {
	c.net.mu.Lock()
	delete(c.net.open[c.target], c)
	c.net.mu.Unlock()
	return c.Conn.Close()
}

// RefusedError reports an address that is not in the simulated pod network.
type RefusedError struct{ Addr string }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("podnet: refused to dial %s: not in the simulated pod network (map it with --pod-network VIRTUAL=LOOPBACK or Network.Add)", e.Addr)
}

func parseAddrPort(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("want IP:port (e.g. 10.244.0.10:8000 or [::1]:8000): %w", err)
	}
	// Canonical form, so 10.244.0.10 and ::ffff:10.244.0.10 are one key.
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}
