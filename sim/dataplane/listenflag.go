package dataplane

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ListenOverrideFlag is a flag.Value collecting repeated PORT=ADDR listen
// overrides (Options.ListenOverrides) for the binaries that embed a data
// plane. ADDR must be a loopback IP:port; port 0 asks for an ephemeral one.
type ListenOverrideFlag map[uint32]string

func (o ListenOverrideFlag) String() string { return fmt.Sprint(map[uint32]string(o)) }

// Set parses one PORT=ADDR.
func (o ListenOverrideFlag) Set(v string) error {
	p, addr, ok := strings.Cut(v, "=")
	port, err := strconv.ParseUint(p, 10, 16)
	if !ok || err != nil || port == 0 || addr == "" {
		return fmt.Errorf("want PORT=ADDR, e.g. 8080=127.0.0.1:8080 or 8080=127.0.0.1:0, got %q", v)
	}
	if ap, err := netip.ParseAddrPort(addr); err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("listen address %q for port %d must be a loopback IP:port such as 127.0.0.1:9080", addr, port)
	}
	o[uint32(port)] = addr
	return nil
}
