package localenv

import (
	"fmt"
	"net/netip"
	"sync"
)

// ipAllocator hands out virtual pod IPs from a prefix. Addresses are never
// reused within one environment, so a stale EndpointSlice can never point
// at another pod.
type ipAllocator struct {
	mu     sync.Mutex
	prefix netip.Prefix
	last   netip.Addr
}

func newIPAllocator(prefix netip.Prefix) *ipAllocator {
	// Skip the network address and the .1 a cluster would give its gateway.
	return &ipAllocator{prefix: prefix.Masked(), last: prefix.Masked().Addr().Next()}
}

func (a *ipAllocator) next() (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ip := a.last.Next()
	if !a.prefix.Contains(ip) {
		return netip.Addr{}, fmt.Errorf("simulated pod network %s is exhausted", a.prefix)
	}
	a.last = ip
	return ip, nil
}
