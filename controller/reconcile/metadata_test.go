package reconcile

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// TestMetadataChangesRetranslate changes what only metadata says: a
// TrafficPolicy's kgateway.dev/policy-weight annotation. Such an update
// bumps no generation, yet it decides which policy wins, so it must be
// translated and published; the suites ran it serially and caught a
// controller that waited for an unrelated event.
func TestMetadataChangesRetranslate(t *testing.T) {
	cut := startController(t, DefaultDebounce)
	c := apiServers.Client(t, AddToScheme)
	ctx := context.Background()
	a := newApp("metadata")
	ads := dialXDS(t, cut, a.nodeID())

	create(t, c, a.objects()...)
	create(t, c, a.secret("older-keys", nil, map[string]string{"older": "k-older-1"}),
		a.secret("heavy-keys", nil, map[string]string{"heavy": "k-heavy-1"}))
	older := a.routePolicy("z-older", v1alpha1.APIKeyAuth{SecretRef: &gwv1.SecretObjectReference{Name: "older-keys"}})
	create(t, c, older)
	waitRoute(t, ads, "the only policy's client", hasClients(t, "older"))

	heavy := a.routePolicy("a-heavy", v1alpha1.APIKeyAuth{SecretRef: &gwv1.SecretObjectReference{Name: "heavy-keys"}})
	heavy.Annotations = map[string]string{"kgateway.dev/policy-weight": "10"}
	create(t, c, heavy)
	waitRoute(t, ads, "the heavier policy's client", hasClients(t, "heavy"))

	// A merge patch of the annotation alone: the controller writes the
	// policy's status meanwhile, which an Update would conflict with.
	patch := []byte(`{"metadata":{"annotations":{"kgateway.dev/policy-weight":"-1"}}}`)
	if err := c.Patch(ctx, heavy, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	waitRoute(t, ads, "the older policy's client again, after an annotation-only update", hasClients(t, "older"))
}
