package scenario

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Redactor replaces every known API key, and every form of it the suite
// produced or may meet (percent-encoded, base64 as in Secret data,
// upper-cased, truncated), with a placeholder such as <key:client1>. Every
// message the suite emits goes through it: a key never reaches a log,
// report or failure message.
type Redactor struct {
	mu       sync.Mutex
	secrets  map[string]string // exact text -> placeholder
	folded   map[string]string // lower-cased text -> placeholder
	compiled *regexp.Regexp
	// byPrefix indexes the lower-cased secrets by their first prefixLen
	// bytes, for Leaks on large texts (a whole run's artifacts), where the
	// one big case-insensitive alternation is slow. nil when some secret
	// is too short or not ASCII: Leaks then uses compiled.
	byPrefix map[uint64][][]byte
}

// prefixLen is how many leading bytes byPrefix indexes.
const prefixLen = 8

// NewRedactor knows the keys of ks and their usual encodings.
func NewRedactor(ks KeySet) *Redactor {
	r := &Redactor{secrets: map[string]string{}, folded: map[string]string{}}
	for _, name := range ks.Names() {
		v := ks.values[name]
		ph := "<key:" + name + ">"
		r.add(v, ph)
		r.add(url.QueryEscape(v), ph)
		r.add(url.PathEscape(v), ph)
		r.add(percentEncode(v), ph)
		r.add(base64.StdEncoding.EncodeToString([]byte(v)), "base64("+ph+")")
		r.add(base64.RawStdEncoding.EncodeToString([]byte(v)), "base64("+ph+")")
		r.add(base64.URLEncoding.EncodeToString([]byte(v)), "base64("+ph+")")
	}
	r.compile()
	return r
}

// Derive records out, computed by fn from a known secret in, as a secret
// too, with a placeholder naming the derivation. It returns whether in was
// secret.
func (r *Redactor) Derive(in, out, fn string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	ph, ok := r.secrets[in]
	if !ok {
		return false
	}
	if _, known := r.secrets[out]; !known {
		r.add(out, fn+"("+ph+")")
		r.compile()
	}
	return true
}

// Redact returns s with every known secret replaced by its placeholder.
// Matching ignores case: an upper-cased key is still the key.
func (r *Redactor) Redact(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.compiled == nil {
		return s
	}
	return r.compiled.ReplaceAllStringFunc(s, func(m string) string {
		if ph, ok := r.secrets[m]; ok {
			return ph
		}
		return r.folded[strings.ToLower(m)]
	})
}

// Leaks reports whether s contains any known secret, in any case.
func (r *Redactor) Leaks(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byPrefix == nil {
		return r.compiled != nil && r.compiled.MatchString(s)
	}
	// Secrets are ASCII here: lower-casing ASCII bytes alone keeps every
	// offset, and a secret in any case becomes its lower-cased form.
	lower := []byte(s)
	for i, c := range lower {
		if 'A' <= c && c <= 'Z' {
			lower[i] = c + ('a' - 'A')
		}
	}
	for i := 0; i+prefixLen <= len(lower); i++ {
		for _, secret := range r.byPrefix[binary.LittleEndian.Uint64(lower[i:])] {
			if bytes.HasPrefix(lower[i:], secret) {
				return true
			}
		}
	}
	return false
}

func (r *Redactor) add(text, placeholder string) {
	if text == "" {
		return
	}
	if _, ok := r.secrets[text]; !ok {
		r.secrets[text] = placeholder
	}
	if _, ok := r.folded[strings.ToLower(text)]; !ok {
		r.folded[strings.ToLower(text)] = placeholder
	}
}

// compile builds one case-insensitive alternation, longest texts first so a
// key inside a longer encoded form is replaced as the longer form.
func (r *Redactor) compile() {
	texts := make([]string, 0, len(r.secrets))
	for t := range r.secrets {
		texts = append(texts, t)
	}
	if len(texts) == 0 {
		r.compiled = nil
		return
	}
	slices.SortFunc(texts, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	quoted := make([]string, len(texts))
	for i, t := range texts {
		quoted[i] = regexp.QuoteMeta(t)
	}
	r.compiled = regexp.MustCompile("(?i)" + strings.Join(quoted, "|"))
	r.byPrefix = map[uint64][][]byte{}
	for lower := range r.folded {
		if len(lower) < prefixLen || !isASCII(lower) {
			r.byPrefix = nil
			return
		}
		k := binary.LittleEndian.Uint64([]byte(lower[:prefixLen]))
		r.byPrefix[k] = append(r.byPrefix[k], []byte(lower))
	}
}

// percentEncode escapes every byte outside RFC 3986's unreserved set, so
// the result decodes to the same bytes under any percent-decoder (unlike
// url.QueryEscape, whose '+' for space some decoders keep as '+').
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
