package xdsclient

import (
	"fmt"
	"net"
	"net/netip"
)

// loopbackTarget checks that addr is a loopback host:port and returns it
// with "localhost" replaced by 127.0.0.1, so that no resolver is consulted
// and the client can only ever reach this machine.
func loopbackTarget(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("xds server address %q: want a loopback host:port such as 127.0.0.1:18000: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return "", fmt.Errorf("xds server address %q is not loopback: the sim only talks to a control plane on 127.0.0.0/8, ::1 or localhost", addr)
	}
	if err := checkPort(addr, port); err != nil {
		return "", err
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// dialedTarget checks that addr is a host:port and returns it as is: the
// Options.Dial dialer alone makes sense of it (a Service's DNS name in the
// simulated cluster, say), so it is not resolved here.
func dialedTarget(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("xds server address %q: want a host:port such as xds.example.svc:18000: %w", addr, err)
	}
	if host == "" {
		return "", fmt.Errorf("xds server address %q has no host", addr)
	}
	if err := checkPort(addr, port); err != nil {
		return "", err
	}
	return addr, nil
}

func checkPort(addr, port string) error {
	if port == "" || port == "0" {
		return fmt.Errorf("xds server address %q has no port", addr)
	}
	return nil
}
