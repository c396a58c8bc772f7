package xds

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	// redacted replaces an API key value found in text we log or return.
	redacted = "[redacted]"
	// maxDetail bounds a data plane's NACK message in logs: Envoy's
	// messages are short, anything longer is not worth a log line.
	maxDetail = 1024
)

// redact replaces every byte of s that belongs to an occurrence of a key in
// keys. Overlapping occurrences, of one key or of several, are covered as a
// whole, so no fragment of a key survives next to a redaction.
func redact(s string, keys map[string]struct{}) string {
	type span struct{ from, to int }
	var spans []span
	for k := range keys {
		if k == "" {
			continue
		}
		for off := 0; ; {
			i := strings.Index(s[off:], k)
			if i < 0 {
				break
			}
			spans = append(spans, span{off + i, off + i + len(k)})
			off += i + 1
		}
	}
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	var b strings.Builder
	last := 0
	for i := 0; i < len(spans); {
		from, to := spans[i].from, spans[i].to
		for i++; i < len(spans) && spans[i].from <= to; i++ {
			to = max(to, spans[i].to)
		}
		b.WriteString(s[last:from])
		b.WriteString(redacted)
		last = to
	}
	b.WriteString(s[last:])
	return b.String()
}

// truncate shortens s to at most n bytes on a rune boundary, saying so.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(truncated)"
}
