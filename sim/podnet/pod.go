package podnet

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
)

// Pod is one simulated pod's network namespace on a Network: its IP, the
// sockets it listens on and its own loopback interface. A socket bound to
// the pod IP or the wildcard address is reachable by everyone at
// podIP:port; one bound to 127.0.0.1 only from inside the pod, as in a
// real pod (Envoy's admin interface, say). Every socket is really a
// listener on an ephemeral 127.0.0.1 port.
type Pod struct {
	net *Network
	ip  netip.Addr
	// search are the DNS search domains of the pod's resolv.conf, which
	// let it name a Service of its namespace by its short name.
	search []string

	mu    sync.Mutex
	local map[uint16]netip.AddrPort // port inside the pod -> real loopback address
}

// Pod returns the network namespace of the pod with address ip in
// namespace, with the DNS search path a cluster gives its pods.
func (n *Network) Pod(ip netip.Addr, namespace string) *Pod {
	return &Pod{
		net: n, ip: ip.Unmap(), local: map[uint16]netip.AddrPort{},
		search: []string{namespace + ".svc.cluster.local", "svc.cluster.local", "cluster.local"},
	}
}

// IP is the pod's address.
func (p *Pod) IP() netip.Addr { return p.ip }

// Listen binds port on addr inside the pod: the pod IP, an unspecified
// address (0.0.0.0, ::) or loopback. Closing the listener frees the port.
func (p *Pod) Listen(addr netip.Addr, port uint16) (net.Listener, error) {
	public := addr.IsUnspecified() || addr.Unmap() == p.ip
	if !public && !addr.IsLoopback() {
		return nil, fmt.Errorf("podnet: pod %s has no address %s to bind", p.ip, addr)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, taken := p.local[port]; taken {
		return nil, fmt.Errorf("podnet: pod %s: listen tcp %s: address already in use", p.ip, netip.AddrPortFrom(addr, port))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	real := ln.Addr().(*net.TCPAddr).AddrPort()
	virtual := netip.AddrPortFrom(p.ip, port)
	if public {
		if err := p.net.Add(virtual.String(), real.String()); err != nil {
			ln.Close()
			return nil, err
		}
	}
	p.local[port] = real
	return &podListener{Listener: ln, release: func() {
		p.mu.Lock()
		delete(p.local, port)
		p.mu.Unlock()
		if public {
			p.net.Remove(virtual.String())
		}
	}}, nil
}

// LocalAddr is the real loopback address serving port inside the pod.
func (p *Pod) LocalAddr(port uint16) (netip.AddrPort, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.local[port]
	return a, ok
}

// DialContext connects from inside the pod: loopback and the pod's own IP
// reach the pod's sockets, anything else goes through the Network.
func (p *Pod) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if host, port, err := net.SplitHostPort(addr); err == nil && strings.EqualFold(host, "localhost") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	if ap, err := parseAddrPort(addr); err == nil && (ap.Addr().IsLoopback() || ap.Addr() == p.ip) {
		if real, ok := p.LocalAddr(ap.Port()); ok {
			return p.net.dial(ctx, network, real.String())
		}
		if ap.Addr().IsLoopback() {
			// Nothing listens there inside the pod; never the host's port.
			return nil, &RefusedError{Addr: addr}
		}
	}
	return p.net.DialContext(ctx, network, p.qualify(addr))
}

// qualify applies the search path as a pod's resolver does (ndots:5): a
// name with fewer than five dots is tried with each search domain first.
func (p *Pod) qualify(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || strings.HasSuffix(host, ".") || strings.Count(host, ".") >= 5 {
		return addr
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return addr
	}
	p.net.mu.RLock()
	defer p.net.mu.RUnlock()
	for _, d := range p.search {
		if _, ok := p.net.hosts[canonicalHost(host+"."+d)]; ok {
			return net.JoinHostPort(host+"."+d, port)
		}
	}
	return addr
}

// Network is the network the pod is attached to.
func (p *Pod) Network() *Network { return p.net }

type podListener struct {
	net.Listener
	once    sync.Once
	release func()
}

func (l *podListener) Close() error {
	l.once.Do(l.release)
	return l.Listener.Close()
}
