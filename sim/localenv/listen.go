package localenv

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// listenAddressFunc says where each Gateway listener port is served. Every
// address is loopback: the environment never listens elsewhere.
func listenAddressFunc(opts Options) (func(port uint32) string, error) {
	for port, addr := range opts.ListenOverrides {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || !ap.Addr().IsLoopback() {
			return nil, fmt.Errorf("listen override for port %d: %q is not a loopback IP:port (e.g. 127.0.0.1:9080)", port, addr)
		}
	}
	return func(port uint32) string {
		if addr, ok := opts.ListenOverrides[port]; ok {
			return addr
		}
		if opts.FixedPorts {
			return net.JoinHostPort("127.0.0.1", strconv.FormatUint(uint64(port), 10))
		}
		return "127.0.0.1:0"
	}, nil
}
