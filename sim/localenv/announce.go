package localenv

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/sim/dataplane"
)

// ListenerAddressesAnnotation, on a Gateway, says where the environment
// serves each listener port, e.g. "8080=127.0.0.1:41234". Listener ports
// can be ephemeral, and this is how anyone with a kubeconfig (another test
// process, a user with kubectl) finds them.
const ListenerAddressesAnnotation = "localenv.keyconform.dev/listener-addresses"

// announce waits until the data plane has bound every port and writes
// their addresses on the Gateway.
func (d *dataPlanes) announce(ctx context.Context, key types.NamespacedName, proxy *dataplane.Proxy, ports []uint32) {
	if err := proxy.WaitReady(ctx); err != nil {
		return // stopped before it was ready
	}
	addrs := make(map[uint32]string, len(ports))
	for _, p := range ports {
		if a, ok := proxy.ListenerAddr(p); ok {
			addrs[p] = a
		}
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{ListenerAddressesAnnotation: FormatListenerAddresses(addrs)},
	}})
	if err != nil {
		d.log.Error("encoding listener addresses", "gateway", key.String(), "error", err)
		return
	}
	gw := &gwv1.Gateway{}
	gw.Namespace, gw.Name = key.Namespace, key.Name
	if err := d.client.Patch(ctx, gw, client.RawPatch(types.MergePatchType, patch)); client.IgnoreNotFound(err) != nil {
		d.log.Error("announcing listener addresses", "gateway", key.String(), "error", err)
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
