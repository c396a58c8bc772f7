package scenario

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
)

// keyAlphabet is what generated keys are made of: letters and digits, like
// the UUID-derived keys of the seed, so a key is safe in any key source
// without escaping.
const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// generatedKeyLength is long enough that two generated keys never collide
// and a redacted message never matches one by accident.
const generatedKeyLength = 40

// minLiteralKeyLength keeps literal keys long enough to be redacted without
// shredding unrelated text.
const minLiteralKeyLength = 12

// KeySet holds the values of the API keys one scenario run knows, by name.
type KeySet struct {
	values map[string]string
}

// NewKeySet gives every name in generated a fresh random value and takes
// literal values as they are.
func NewKeySet(generated []string, literal map[string]string) (KeySet, error) {
	seed, err := NewKeySeed()
	if err != nil {
		return KeySet{}, err
	}
	return seed.KeySet("", generated, literal)
}

// KeySeed is a run's secret from which every generated key of the run is
// derived: the process writing the run's reports can then know every key,
// to scan what the run left behind, without keys passing between
// processes. Treat it as a key: it is one to every key of the run.
type KeySeed []byte

// NewKeySeed is a fresh random seed.
func NewKeySeed() (KeySeed, error) {
	seed := make(KeySeed, 32)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("generating the run's key seed: %w", err)
	}
	return seed, nil
}

// KeySet derives the value of every name in generated within scope (a
// scenario's run), and takes literal values as they are.
func (seed KeySeed) KeySet(scope string, generated []string, literal map[string]string) (KeySet, error) {
	if len(seed) == 0 {
		return KeySet{}, fmt.Errorf("no key seed")
	}
	values := make(map[string]string, len(generated)+len(literal))
	for _, name := range generated {
		if _, dup := values[name]; dup {
			return KeySet{}, fmt.Errorf("key %q is declared twice", name)
		}
		values[name] = seed.derive(scope + "/" + name)
	}
	for name, v := range literal {
		if _, dup := values[name]; dup {
			return KeySet{}, fmt.Errorf("key %q is declared twice", name)
		}
		if len(v) < minLiteralKeyLength {
			return KeySet{}, fmt.Errorf("literal key %q is shorter than %d characters; longer keys redact reliably", name, minLiteralKeyLength)
		}
		values[name] = v
	}
	return KeySet{values: values}, nil
}

// Value returns the value of the named key.
func (k KeySet) Value(name string) (string, error) {
	v, ok := k.values[name]
	if !ok {
		return "", fmt.Errorf("unknown key %q; the scenario declares %v", name, k.Names())
	}
	return v, nil
}

// Names returns the key names, sorted.
func (k KeySet) Names() []string {
	return slices.Sorted(maps.Keys(k.values))
}

// derive is HMAC-SHA256(seed, label, block) for as many blocks as a key
// needs, each byte mapped to the key alphabet.
func (seed KeySeed) derive(label string) string {
	buf := make([]byte, 0, generatedKeyLength)
	for block := byte(0); len(buf) < generatedKeyLength; block++ {
		mac := hmac.New(sha256.New, seed)
		mac.Write([]byte(label))
		mac.Write([]byte{0, block})
		for _, b := range mac.Sum(nil) {
			if len(buf) < generatedKeyLength {
				buf = append(buf, keyAlphabet[int(b)%len(keyAlphabet)])
			}
		}
	}
	return string(buf)
}

// RunKeys is every key the scenarios' runs under seed use, each named
// "<scenario>/<key>", and the seed itself (as "seed", in hex and base64),
// which would give them all away.
func RunKeys(seed KeySeed, scenarios []Scenario) (KeySet, error) {
	values := map[string]string{
		"seed":        hex.EncodeToString(seed),
		"seed-base64": base64.StdEncoding.EncodeToString(seed),
	}
	for _, s := range scenarios {
		ks, err := seed.KeySet(s.ShortName, s.Keys, s.LiteralKeys)
		if err != nil {
			return KeySet{}, fmt.Errorf("scenario %s: %w", s.ShortName, err)
		}
		for name, v := range ks.values {
			values[s.ShortName+"/"+name] = v
		}
	}
	return KeySet{values: values}, nil
}
