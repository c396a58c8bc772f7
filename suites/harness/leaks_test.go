package harness

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/keyconform/keyconform/suites/scenario"
)

func TestLeakInLooksAtStatusAndWholeEvents(t *testing.T) {
	ks, err := scenario.NewKeySet([]string{"client1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := ks.Value("client1")
	x := &execution{redactor: scenario.NewRedactor(ks)}
	obj := func(kind string, fields map[string]any) unstructured.Unstructured {
		u := unstructured.Unstructured{Object: fields}
		u.SetKind(kind)
		return u
	}
	tests := []struct {
		name string
		obj  unstructured.Unstructured
		leak bool
	}{
		{"status message", obj("TrafficPolicy", map[string]any{"status": map[string]any{"message": "bad key " + v}}), true},
		{"spec only", obj("TrafficPolicy", map[string]any{"spec": map[string]any{"note": v}}), false},
		{"event note", obj("Event", map[string]any{"note": "rejected " + v}), true},
		{"clean", obj("HTTPRoute", map[string]any{"status": map[string]any{"message": "clients a and b share a key"}}), false},
	}
	for _, tt := range tests {
		got := x.leakIn(tt.obj)
		if (got != "") != tt.leak {
			t.Errorf("%s: leakIn = %q, want leak=%v", tt.name, got, tt.leak)
		}
		if strings.Contains(got, v) {
			t.Errorf("%s: the leak report shows the key: %q", tt.name, got)
		}
	}
}
