package reconcile

import (
	"context"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"k8s.io/apimachinery/pkg/types"

	"github.com/keyconform/keyconform/controller/translate"
	"github.com/keyconform/keyconform/controller/xds"
)

func TestPublishReportsRejectedGateways(t *testing.T) {
	good := types.NamespacedName{Namespace: "ns", Name: "good"}
	bad := types.NamespacedName{Namespace: "ns", Name: "bad"}
	r := &reconciler{xds: xds.NewServer(nil)}
	rejected, err := r.publish(context.Background(), []translate.Proxy{
		{Gateway: good},
		// A listener without a name cannot be served.
		{Gateway: bad, Listeners: []*listenerv3.Listener{{}}},
	})
	if err != nil {
		t.Fatalf("a rejected proxy is reported per Gateway, not as an error: %v", err)
	}
	if !rejected[bad] || rejected[good] || len(rejected) != 1 {
		t.Errorf("rejected = %v, want only %s", rejected, bad)
	}
}
