package scenario

import (
	"strings"
	"testing"
)

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
