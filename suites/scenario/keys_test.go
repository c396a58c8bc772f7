package scenario

import (
	"fmt"
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

// TestKeySeedDerivesEveryRunKey: a scenario's keys are a function of the
// seed and the scenario, so RunKeys, in another process, knows them all.
func TestKeySeedDerivesEveryRunKey(t *testing.T) {
	seed, err := NewKeySeed()
	if err != nil {
		t.Fatal(err)
	}
	a := Scenario{ShortName: "A", Keys: []string{"client1", "client2"}}
	b := Scenario{ShortName: "B", Keys: []string{"client1"}, LiteralKeys: map[string]string{"seed-key": "N2YwMDIxZTEtNGUz"}}
	ka, err := seed.KeySet(a.ShortName, a.Keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := seed.KeySet(a.ShortName, a.Keys, nil)
	kb, _ := seed.KeySet(b.ShortName, b.Keys, b.LiteralKeys)
	other, _ := NewKeySeed()
	elsewhere, _ := other.KeySet(a.ShortName, a.Keys, nil)
	a1, _ := ka.Value("client1")
	a2, _ := ka.Value("client2")
	b1, _ := kb.Value("client1")
	if v, _ := again.Value("client1"); v != a1 {
		t.Error("the same seed and scenario derive different keys")
	}
	if v, _ := elsewhere.Value("client1"); v == a1 || a1 == a2 || a1 == b1 {
		t.Error("keys of other seeds, names or scenarios collide")
	}
	if len(a1) != generatedKeyLength || strings.Trim(a1, keyAlphabet) != "" {
		t.Errorf("a derived key has %d characters or some outside the alphabet", len(a1))
	}

	all, err := RunKeys(seed, []Scenario{a, b})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRedactor(all)
	for i, v := range []string{a1, a2, b1, "N2YwMDIxZTEtNGUz", "Bearer " + strings.ToLower(a2), fmt.Sprintf("%x", []byte(seed))} {
		if !r.Leaks("log line: " + v) {
			t.Errorf("the run's redactor misses secret #%d of the run", i)
		}
	}
	if r.Leaks("log line: " + strings.Repeat("x", generatedKeyLength)) {
		t.Error("the run's redactor flags text that is no key")
	}
}
