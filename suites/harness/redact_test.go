package harness

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestRedactorReplacesEveryFormOfEveryKey(t *testing.T) {
	ks, err := NewKeySet([]string{"client1"}, map[string]string{"special": "k/ey=1&2+3%4 five"})
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := ks.Value("client1")
	sp, _ := ks.Value("special")
	r := NewRedactor(ks)

	tests := []struct {
		name, in, want string
	}{
		{"plain", "api-key: " + c1, "api-key: <key:client1>"},
		{"bearer", "Bearer " + c1 + "!", "Bearer <key:client1>!"},
		{"upper-cased", strings.ToUpper(c1), "<key:client1>"},
		{"twice", c1 + c1, "<key:client1><key:client1>"},
		{"query-escaped", "?api_key=" + url.QueryEscape(sp), "?api_key=<key:special>"},
		{"path-escaped", url.PathEscape(sp), "<key:special>"},
		{"percent-encoded", percentEncode(sp), "<key:special>"},
		{"secret data", "data: " + base64.StdEncoding.EncodeToString([]byte(c1)), "data: base64(<key:client1>)"},
		{"json-quoted", `{"Api-Key":["` + c1 + `"]}`, `{"Api-Key":["<key:client1>"]}`},
		{"no key", "nothing to hide", "nothing to hide"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if r.Leaks(tt.in) != (tt.in != tt.want) {
				t.Errorf("Leaks(%q) = %v", tt.in, r.Leaks(tt.in))
			}
		})
	}
}

func TestRedactorLearnsDerivedForms(t *testing.T) {
	ks, err := NewKeySet([]string{"client1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRedactor(ks)
	rn := &renderer{keys: ks, redactor: r}
	chopped, err := rn.render("t", `{{key "client1" | chop}}`)
	if err != nil {
		t.Fatal(err)
	}
	if r.Redact("x "+chopped+" y") != "x chop(<key:client1>) y" {
		t.Errorf("a truncated key is not redacted: %q", r.Redact(chopped))
	}
	if r.Derive("not a secret", "whatever", "chop") {
		t.Error("Derive treated a non-secret as secret")
	}
}

func TestKeySetRejectsShortLiteralAndDuplicates(t *testing.T) {
	if _, err := NewKeySet(nil, map[string]string{"k": "short"}); err == nil {
		t.Error("a 5-character literal key was accepted")
	}
	if _, err := NewKeySet([]string{"a", "a"}, nil); err == nil {
		t.Error("a key declared twice was accepted")
	}
	ks, err := NewKeySet([]string{"a", "b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ks.Value("a")
	b, _ := ks.Value("b")
	if a == b || len(a) != generatedKeyLength {
		t.Errorf("generated keys %q and %q: want distinct, %d characters", a, b, generatedKeyLength)
	}
	if _, err := ks.Value("c"); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("unknown key: err = %v", err)
	}
}

func TestLeakInLooksAtStatusAndWholeEvents(t *testing.T) {
	ks, err := NewKeySet([]string{"client1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := ks.Value("client1")
	x := &execution{redactor: NewRedactor(ks)}
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
