package scenario

import (
	"strings"
	"testing"
)

func testRenderer(t *testing.T) (*Renderer, string) {
	t.Helper()
	ks, err := NewKeySet([]string{"client1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := ks.Value("client1")
	return &Renderer{keys: ks, redactor: NewRedactor(ks), namespace: "ns-abcde",
		extra: map[string]string{"secrets": "ns-secrets-abcde"}, gatewayClass: "kgateway"}, v
}

func TestRenderAndDescribe(t *testing.T) {
	rn, v := testRenderer(t)
	tests := []struct {
		text, real, described string
	}{
		{`{{.Namespace}}/{{ns "secrets"}} {{.GatewayClass}}`, "ns-abcde/ns-secrets-abcde kgateway", "ns-abcde/ns-secrets-abcde kgateway"},
		{`Bearer {{key "client1"}}`, "Bearer " + v, "Bearer <key:client1>"},
		{`{{key "client1" | upper}}`, strings.ToUpper(v), "upper(<key:client1>)"},
		{`{{"a b" | pct}}`, "a%20b", "a%20b"},
		{`{{host "www"}}`, "www.ns-abcde.example.com", "www.ns-abcde.example.com"},
		{"no template", "no template", "no template"},
	}
	for _, tt := range tests {
		got, err := rn.Render("t", tt.text)
		if err != nil {
			t.Fatalf("render(%q): %v", tt.text, err)
		}
		if got != tt.real {
			t.Errorf("render(%q) = %q, want %q", tt.text, got, tt.real)
		}
		if d := rn.Describe(tt.text); d != tt.described {
			t.Errorf("describe(%q) = %q, want %q", tt.text, d, tt.described)
		}
	}
}

func TestRenderErrorsNameTheProblem(t *testing.T) {
	rn, _ := testRenderer(t)
	for text, want := range map[string]string{
		`{{key "nope"}}`:   `unknown key "nope"`,
		`{{ns "nope"}}`:    `namespace alias "nope"`,
		`{{.NoSuchField}}`: "NoSuchField",
		`{{key "client1"`:  "template",
	} {
		_, err := rn.Render("t", text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("render(%q): err = %v, want it to mention %q", text, err, want)
		}
	}
}
