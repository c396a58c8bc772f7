package v1alpha1_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/keyconform/keyconform/fixtures"
	"github.com/keyconform/keyconform/internal/apiservertest"
)

// TestCRDValidation applies TrafficPolicies to a real kube-apiserver with
// the generated CRD installed: the schema and CEL rules must reject what
// kgateway's API rejects (exactly one of secretRef, secretSelector and
// disable; bounded key sources), with a message a user can act on, and accept
// every shape the seed document uses.
func TestCRDValidation(t *testing.T) {
	c := apiServer(t)
	const target = `
  targetRefs:
  - group: gateway.networking.k8s.io
    kind: Gateway
    name: http`
	sources := func(n int) string {
		var b strings.Builder
		b.WriteString("\n    keySources:")
		for range n {
			b.WriteString("\n    - header: x-key")
		}
		return b.String()
	}
	tests := []struct {
		name    string
		spec    string
		wantErr string // empty: accepted
	}{
		{name: "secretRef", spec: target + "\n  apiKeyAuth:\n    secretRef:\n      name: apikey"},
		{name: "secretSelector", spec: target + "\n  apiKeyAuth:\n    secretSelector:\n      matchLabels:\n        app: httpbin"},
		{name: "disable", spec: target + "\n  apiKeyAuth:\n    disable: {}"},
		{name: "all options", spec: target + "\n  apiKeyAuth:\n    secretRef:\n      name: apikey\n    keySources:\n    - header: X-API-KEY\n    - query: api_key\n    - cookie: auth_token\n    clientIdHeader: x-client-id\n    forwardCredential: true"},
		{name: "16 key sources", spec: target + "\n  apiKeyAuth:\n    secretRef:\n      name: apikey" + sources(16)},
		{name: "17 key sources", spec: target + "\n  apiKeyAuth:\n    secretRef:\n      name: apikey" + sources(17), wantErr: "must have at most 16 items"},
		{name: "secretRef and disable", spec: target + "\n  apiKeyAuth:\n    secretRef:\n      name: apikey\n    disable: {}", wantErr: "exactly one of secretRef, secretSelector or disable"},
		{name: "secretRef and secretSelector", spec: target + "\n  apiKeyAuth:\n    secretRef:\n      name: apikey\n    secretSelector:\n      matchLabels:\n        app: x", wantErr: "exactly one of secretRef, secretSelector or disable"},
		{name: "none of them", spec: target + "\n  apiKeyAuth:\n    forwardCredential: true", wantErr: "exactly one of secretRef, secretSelector or disable"},
		{name: "empty key source", spec: target + "\n  apiKeyAuth:\n    secretRef:\n      name: apikey\n    keySources:\n    - {}", wantErr: "at least one of header, query or cookie"},
		{name: "empty header name", spec: target + "\n  apiKeyAuth:\n    secretRef:\n      name: apikey\n    keySources:\n    - header: \"\"", wantErr: "should be at least 1 chars long"},
		{name: "header name too long", spec: target + "\n  apiKeyAuth:\n    secretRef:\n      name: apikey\n    keySources:\n    - header: " + strings.Repeat("h", 257), wantErr: "may not be more than 256"},
		// kgateway's CRD (api/v1alpha1/kgateway/traffic_policy_types.go)
		// allows an empty selector, any clientIdHeader length, no targetRefs,
		// targetSelectors and ListenerSet and GRPCRoute kinds; so does ours.
		{name: "empty selector", spec: target + "\n  apiKeyAuth:\n    secretSelector:\n      matchLabels: {}"},
		{name: "long client id header", spec: target + "\n  apiKeyAuth:\n    disable: {}\n    clientIdHeader: " + strings.Repeat("h", 1000)},
		{name: "no targetRefs", spec: "\n  apiKeyAuth:\n    disable: {}"},
		{name: "target selector", spec: "\n  targetSelectors:\n  - group: gateway.networking.k8s.io\n    kind: HTTPRoute\n    matchLabels:\n      app: httpbin\n    sectionName: r1\n  apiKeyAuth:\n    disable: {}"},
		{name: "listener set target", spec: "\n  targetRefs:\n  - group: gateway.networking.k8s.io\n    kind: ListenerSet\n    name: ls\n  apiKeyAuth:\n    disable: {}"},
		{name: "target of another kind", spec: "\n  targetRefs:\n  - group: \"\"\n    kind: Service\n    name: httpbin\n  apiKeyAuth:\n    disable: {}", wantErr: "may only reference Gateway, HTTPRoute, GRPCRoute, or ListenerSet"},
		{name: "selector of another kind", spec: "\n  targetSelectors:\n  - group: \"\"\n    kind: Service\n    matchLabels: {}\n  apiKeyAuth:\n    disable: {}", wantErr: "may only reference Gateway, HTTPRoute, GRPCRoute, or ListenerSet"},
		{name: "empty targetRefs", spec: "\n  targetRefs: []\n  apiKeyAuth:\n    disable: {}", wantErr: "should have at least 1 items"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := fixtures.Decode(tt.name, []byte("apiVersion: gateway.kgateway.dev/v1alpha1\nkind: TrafficPolicy\nmetadata:\n  name: p"+string(rune('a'+i))+"\n  namespace: default\nspec:"+tt.spec+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Create(context.Background(), objs[0], client.DryRunAll)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("accepted, want rejection mentioning %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("rejected with %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func apiServer(t *testing.T) client.Client {
	t.Helper()
	_, cfg := apiservertest.Start(t)
	c, err := client.New(cfg, client.Options{Scheme: runtime.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
