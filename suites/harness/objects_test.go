package harness

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"

	"github.com/keyconform/keyconform/internal/apiservertest"
)

// TestApplyIsStrict applies manifests to a real API server with the
// Gateway API CRDs: a field the CRD does not know fails the apply, on
// create and on update, naming the field, instead of being dropped.
func TestApplyIsStrict(t *testing.T) {
	res, _ := apiResources(t)
	gateway := func(extra map[string]any) *unstructured.Unstructured {
		spec := map[string]any{"gatewayClassName": "kgateway",
			"listeners": []any{map[string]any{"name": "http", "protocol": "HTTP", "port": int64(8180)}}}
		for k, v := range extra {
			spec[k] = v
		}
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
			"metadata": map[string]any{"name": "gw", "namespace": "default"},
			"spec":     spec,
		}}
		return u
	}
	ctx := context.Background()
	tests := []struct {
		name, wantErr string
		obj           *unstructured.Unstructured
	}{
		{"create with an unknown field", "listenerz", gateway(map[string]any{"listenerz": []any{}})},
		{"create", "", gateway(nil)},
		{"update", "", gateway(nil)},
		{"update with an unknown field", "infrastructur", gateway(map[string]any{"infrastructur": map[string]any{}})},
	}
	for _, tt := range tests {
		err := Apply(ctx, res, tt.obj)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Fatalf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Fatalf("%s: error %v, want one naming %q", tt.name, err, tt.wantErr)
		}
	}
}

// TestApplyLeavesTheManifestsState re-applies a Secret whose manifest lost
// a key and changed another, after someone else added a label: the key is
// gone (though applied as stringData, which the API server stores as
// data), the value is the new one, and the other manager's label stays.
func TestApplyLeavesTheManifestsState(t *testing.T) {
	res, _ := apiResources(t)
	ctx := context.Background()
	secret := func(stringData map[string]string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "keys", Namespace: "default"}, StringData: stringData}
	}
	first := secret(map[string]string{"client1": "k-1", "client2": "k-2"})
	if err := Apply(ctx, res, first); err != nil {
		t.Fatal(err)
	}
	if first.ResourceVersion != "" || first.Data != nil {
		t.Errorf("Apply changed the object it was given: %+v", first)
	}
	other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "keys", Namespace: "default"}}
	if err := res.Patch(ctx, other, k8s.Patch{PatchType: types.MergePatchType, Data: []byte(`{"metadata":{"labels":{"team":"x"}}}`)}); err != nil {
		t.Fatal(err)
	}
	if err := Apply(ctx, res, secret(map[string]string{"client1": "k-1b"})); err != nil {
		t.Fatal(err)
	}
	var got corev1.Secret
	if err := res.Get(ctx, "keys", "default", &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 1 || string(got.Data["client1"]) != "k-1b" || got.Labels["team"] != "x" {
		t.Errorf("Secret keys %v, labels %v; want only client1 (new value) and the label team=x", slices.Sorted(maps.Keys(got.Data)), got.Labels)
	}
}

// apiEnv is an Environment with only an API server.
type apiEnv struct{ cfg *rest.Config }

func (e apiEnv) RESTConfig() *rest.Config { return e.cfg }
func (apiEnv) GatewayClass() string       { return "kgateway" }
func (apiEnv) LoopbackOnly() bool         { return true }
func (apiEnv) GatewayAddress(context.Context, types.NamespacedName, uint32) (string, error) {
	return "", nil
}

// TestGatewayAPIBundleReadsTheCRD reads the version and channel of the
// Gateway API CRDs installed on a real API server (the project's, v1.6.3
// standard, from fixtures/crds).
func TestGatewayAPIBundleReadsTheCRD(t *testing.T) {
	_, cfg := apiResources(t)
	version, channel, err := GatewayAPIBundle(context.Background(), apiEnv{cfg})
	if err != nil {
		t.Fatal(err)
	}
	if version != "v1.6.3" || channel != "standard" {
		t.Fatalf("Gateway API %s %s, want v1.6.3 standard", version, channel)
	}
}

// apiResources starts a real API server, with the project's CRDs, for the
// test.
func apiResources(t *testing.T) (*resources.Resources, *rest.Config) {
	t.Helper()
	_, cfg := apiservertest.Start(t)
	res, err := resources.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res, cfg
}
