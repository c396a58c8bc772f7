package localenv

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ListenerAddressesAnnotation, on a Gateway, says where the environment
// serves each listener port, e.g. "8080=127.0.0.1:41234". Listener ports
// can be ephemeral, and this is how anyone with a kubeconfig (another test
// process, a user with kubectl) finds them.
const ListenerAddressesAnnotation = "localenv.keyconform.dev/listener-addresses"

// WaitListenerAddress waits until the Gateway's annotation names listener
// port and returns the address it is served at.
func WaitListenerAddress(ctx context.Context, r client.Reader, gw types.NamespacedName, port uint32) (string, error) {
	var last error
	for {
		var g gwv1.Gateway
		last = r.Get(ctx, gw, &g)
		if last == nil {
			addrs, err := ParseListenerAddresses(g.Annotations[ListenerAddressesAnnotation])
			if err != nil {
				return "", err
			}
			if a, ok := addrs[port]; ok {
				return a, nil
			}
			last = fmt.Errorf("gateway %s: listener port %d not served yet (annotation %s: %q; is the Gateway's class served, and its data plane running? kubectl get pods -A)",
				gw, port, ListenerAddressesAnnotation, g.Annotations[ListenerAddressesAnnotation])
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %w", ctx.Err(), last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// FormatListenerAddresses renders port -> address as the annotation holds
// it: "PORT=ADDR" pairs, comma-separated, by port.
func FormatListenerAddresses(addrs map[uint32]string) string {
	ports := make([]uint32, 0, len(addrs))
	for p := range addrs {
		ports = append(ports, p)
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i] < ports[j] })
	pairs := make([]string, len(ports))
	for i, p := range ports {
		pairs[i] = fmt.Sprintf("%d=%s", p, addrs[p])
	}
	return strings.Join(pairs, ",")
}

// ParseListenerAddresses is the inverse of FormatListenerAddresses.
func ParseListenerAddresses(s string) (map[uint32]string, error) {
	addrs := map[uint32]string{}
	if s == "" {
		return addrs, nil
	}
	for _, pair := range strings.Split(s, ",") {
		p, addr, ok := strings.Cut(pair, "=")
		port, err := strconv.ParseUint(p, 10, 32)
		if !ok || err != nil || addr == "" {
			return nil, fmt.Errorf("annotation %s: %q is not PORT=ADDR", ListenerAddressesAnnotation, pair)
		}
		addrs[uint32(port)] = addr
	}
	return addrs, nil
}
