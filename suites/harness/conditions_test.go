package harness

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/keyconform/keyconform/suites/scenario"
)

func TestCheckListenerConditions(t *testing.T) {
	gateway := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1",
		"kind":       "Gateway",
		"metadata":   map[string]any{"name": "gw", "generation": int64(2)},
		"status": map[string]any{
			"conditions": []any{
				map[string]any{"type": "Accepted", "status": "False", "reason": "GatewayReplaced", "message": "Secret ns/keys not found", "observedGeneration": int64(2)},
			},
			"listeners": []any{
				map[string]any{"name": "http", "conditions": []any{
					map[string]any{"type": "Accepted", "status": "True", "reason": "Accepted", "observedGeneration": int64(2)},
				}},
				map[string]any{"name": "admin", "conditions": []any{
					map[string]any{"type": "Accepted", "status": "False", "reason": "ListenerReplaced", "observedGeneration": int64(1)},
				}},
			},
		},
	}}
	replaced := scenario.Condition{Type: "Accepted", Status: "False", Reason: "GatewayReplaced"}
	listenerOK := scenario.Condition{Type: "Accepted", Status: "True"}
	tests := []struct {
		name     string
		listener string
		want     scenario.Condition
		messages []string
		diff     string // a fragment of the one expected difference; empty: none
	}{
		{name: "gateway's own conditions", want: replaced, messages: []string{"keys"}},
		{name: "gateway message missing", want: replaced, messages: []string{"other"}, diff: `does not contain "other"`},
		{name: "listener matches", listener: "http", want: listenerOK},
		{name: "listener reason differs", listener: "http", want: scenario.Condition{Type: "Accepted", Reason: "ListenerReplaced"}, diff: "Accepted=True reason Accepted"},
		{name: "listener of an older generation", listener: "admin", want: scenario.Condition{Type: "Accepted", Status: "False"}, diff: "generation 1"},
		{name: "no such listener", listener: "absent", want: listenerOK, diff: `no listener "absent"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diffs := checkListenerConditions(gateway, tt.listener, tt.want, tt.messages)
			switch {
			case tt.diff == "" && len(diffs) > 0:
				t.Fatalf("unexpected differences: %v", diffs)
			case tt.diff != "" && (len(diffs) != 1 || !strings.Contains(diffs[0], tt.diff)):
				t.Fatalf("differences %v, want one containing %q", diffs, tt.diff)
			}
		})
	}
}

func TestGatewayClassInfo(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"spec":   map[string]any{"controllerName": "example.com/controller"},
		"status": map[string]any{"supportedFeatures": []any{map[string]any{"name": "HTTPRoute"}, map[string]any{"name": "APIKeyAuthQuerySource"}}},
	}}
	info := gatewayClassInfo(u)
	if info.ControllerName != "example.com/controller" || len(info.SupportedFeatures) != 2 || info.SupportedFeatures[1] != "APIKeyAuthQuerySource" {
		t.Errorf("info %+v", info)
	}
}
