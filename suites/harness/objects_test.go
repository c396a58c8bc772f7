package harness

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"

	"github.com/keyconform/keyconform/internal/apiservertest"
)

// TestCreateOrReplaceIsStrict applies manifests to a real API server with
// the Gateway API CRDs: a field the CRD does not know fails the apply,
// on create and on replace, naming the field, instead of being dropped.
func TestCreateOrReplaceIsStrict(t *testing.T) {
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
		name, verb, wantErr string
		obj                 *unstructured.Unstructured
	}{
		{"create with an unknown field", "create", `unknown field "spec.listenerz"`, gateway(map[string]any{"listenerz": []any{}})},
		{"create", "create", "", gateway(nil)},
		{"replace", "update", "", gateway(nil)},
		{"replace with an unknown field", "", `unknown field "spec.infrastructur"`, gateway(map[string]any{"infrastructur": map[string]any{}})},
	}
	for _, tt := range tests {
		verb, err := CreateOrReplace(ctx, res, tt.obj)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Fatalf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Fatalf("%s: error %v, want one containing %q", tt.name, err, tt.wantErr)
		case tt.wantErr == "" && verb != tt.verb:
			t.Fatalf("%s: verb %q, want %q", tt.name, verb, tt.verb)
		}
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
