package scenario

import (
	"crypto/rand"
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
	values := make(map[string]string, len(generated)+len(literal))
	for _, name := range generated {
		if _, dup := values[name]; dup {
			return KeySet{}, fmt.Errorf("key %q is declared twice", name)
		}
		v, err := randomKey()
		if err != nil {
			return KeySet{}, err
		}
		values[name] = v
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

func randomKey() (string, error) {
	buf := make([]byte, generatedKeyLength)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generating an API key: %w", err)
	}
	for i, b := range buf {
		buf[i] = keyAlphabet[int(b)%len(keyAlphabet)]
	}
	return string(buf), nil
}
