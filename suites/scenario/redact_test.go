package scenario

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
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
	rn := &Renderer{keys: ks, redactor: r}
	chopped, err := rn.Render("t", `{{key "client1" | chop}}`)
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

// TestLeaksAgreesWithTheAlternation: the prefix index Leaks uses on large
// texts finds exactly what the case-insensitive alternation finds.
func TestLeaksAgreesWithTheAlternation(t *testing.T) {
	ks, err := NewKeySet([]string{"client1", "client2"}, map[string]string{"literal": "Literal-Key-0123"})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRedactor(ks)
	if r.byPrefix == nil {
		t.Fatal("ASCII keys of 12 characters or more must use the prefix index")
	}
	k1, _ := ks.Value("client1")
	texts := []string{
		"", "short", k1, "x" + k1, k1 + "y", strings.ToUpper(k1), "Bearer " + strings.ToLower(k1),
		k1[:len(k1)-1], k1[1:], "literal-key-0123 at the end", "LITERAL-KEY-012",
		base64.StdEncoding.EncodeToString([]byte(k1)), "κλειδί " + k1[:20] + " " + k1[20:],
	}
	for i, text := range texts {
		if got, want := r.Leaks(text), r.compiled.MatchString(text); got != want {
			t.Errorf("text #%d: Leaks = %v, the alternation says %v", i, got, want)
		}
	}
}
