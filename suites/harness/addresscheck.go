package harness

import (
	"context"
	"fmt"
	"net"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/keyconform/keyconform/suites/scenario"
)

// gatewayListKind lists Gateways of every namespace.
var gatewayListKind = scenario.GatewayKind.GroupVersion().WithKind("GatewayList")

// checkAddressIsOwn fails when addr, where the suite will reach listener
// port of Gateway gw, is also the status address of another Gateway with a
// listener on that port: requests could then reach the other Gateway, and
// a scenario expecting 401 or 200 could pass on someone else's routes.
func (x *execution) checkAddressIsOwn(ctx context.Context, gw types.NamespacedName, port uint32, addr string) error {
	if x.res == nil {
		return nil // no cluster, no other Gateway (unit tests of expectations)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q of Gateway %s: %w", addr, gw, err)
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gatewayListKind)
	if err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
		return x.res.List(ctx, list)
	}); err != nil {
		return fmt.Errorf("listing Gateways to check the address of %s: %w", gw, err)
	}
	for _, other := range list.Items {
		key := types.NamespacedName{Namespace: other.GetNamespace(), Name: other.GetName()}
		if key == gw || !listensOn(&other, port) || !slices.Contains(statusAddresses(&other), host) {
			continue
		}
		return fmt.Errorf("setup: Gateway %s port %d is reached at %s, which is also the status address of Gateway %s, listening on the same port: "+
			"requests could reach the other Gateway's routes; the environment must give each Gateway its own address", gw, port, addr, key)
	}
	return nil
}

func listensOn(gw *unstructured.Unstructured, port uint32) bool {
	listeners, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
	for _, l := range listeners {
		if m, ok := l.(map[string]any); ok {
			if p, ok := m["port"].(int64); ok && uint32(p) == port {
				return true
			}
		}
	}
	return false
}

func statusAddresses(gw *unstructured.Unstructured) []string {
	addrs, _, _ := unstructured.NestedSlice(gw.Object, "status", "addresses")
	var out []string
	for _, a := range addrs {
		if m, ok := a.(map[string]any); ok {
			if v, ok := m["value"].(string); ok {
				out = append(out, v)
			}
		}
	}
	return out
}
