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
	refusals map[string]uint64

	// dial reaches a mapped loopback address; a field so that tests can
	// observe which addresses are actually dialled.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns an empty network.
func New() *Network {
	d := &net.Dialer{Timeout: DialTimeout}
	return &Network{
		routes:   make(map[netip.AddrPort]netip.AddrPort),
		refusals: make(map[string]uint64),
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

// Lookup returns the loopback address virtual is mapped to.
func (n *Network) Lookup(virtual string) (string, bool) {
	v, err := parseAddrPort(virtual)
	if err != nil {
		return "", false
	}
	n.mu.RLock()
	l, ok := n.routes[v]
	n.mu.RUnlock()
	if !ok {
		return "", false
	}
	return l.String(), true
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
	return n.dial(ctx, network, target)
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
