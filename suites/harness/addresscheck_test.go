package harness

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// TestAddressOfAnotherGatewayIsASetupError gives two Gateways the same
// status address: reaching one at that address on a port both listen on
// is refused, naming both; a port only one listens on, or an address no
// other Gateway has, is fine.
func TestAddressOfAnotherGatewayIsASetupError(t *testing.T) {
	res, _ := apiResources(t)
	ctx := context.Background()
	gateway := func(name, address string, ports ...int64) {
		var listeners []any
		for _, p := range ports {
			listeners = append(listeners, map[string]any{"name": "l" + string(rune('0'+p%10)), "protocol": "HTTP", "port": p})
		}
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
			"metadata": map[string]any{"name": name, "namespace": "default"},
			"spec":     map[string]any{"gatewayClassName": "kgateway", "listeners": listeners},
		}}
		if err := res.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		u.Object["status"] = map[string]any{"addresses": []any{map[string]any{"type": "IPAddress", "value": address}}}
		if err := res.UpdateStatus(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	gateway("ours", "127.0.0.7", 8180, 8181)
	gateway("theirs", "127.0.0.7", 8180)
	gateway("elsewhere", "127.0.0.8", 8181)
	x := &execution{res: res, timeouts: DefaultTimeoutConfig()}
	ours := types.NamespacedName{Namespace: "default", Name: "ours"}
	tests := []struct {
		port    uint32
		addr    string
		wantErr string
	}{
		{8180, "127.0.0.7:8180", "also the status address of Gateway default/theirs"},
		{8181, "127.0.0.7:8181", ""},
		{8180, "127.0.0.9:8180", ""},
	}
	for _, tt := range tests {
		err := x.checkAddressIsOwn(ctx, ours, tt.port, tt.addr)
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("port %d at %s: %v, want %q", tt.port, tt.addr, err, tt.wantErr)
		}
	}
}
