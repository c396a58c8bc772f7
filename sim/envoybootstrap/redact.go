package envoybootstrap

import (
	"errors"
	"regexp"
	"strings"
)

// privateKeyPEM matches a PEM private key, whole or cut short, raw or with
// its newlines escaped (as in a JSON string or a Go %q).
var privateKeyPEM = regexp.MustCompile(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`)

// redact removes private keys from text bound for an error message or log.
// The sim's own messages never quote file or inline data; this catches what
// a decoder quotes back, such as protojson's "unexpected token" with a
// misplaced inline key.
func redact(s string) string {
	if !strings.Contains(s, "PRIVATE KEY") {
		return s
	}
	return privateKeyPEM.ReplaceAllString(s, "[private key redacted]")
}

// redactErr returns err, or an error with its text redacted when it quotes
// a private key. The redacted error does not wrap the original, which would
// give the key back to anyone who unwraps it.
func redactErr(err error) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); redact(msg) != msg {
		return errors.New(redact(msg))
	}
	return err
}
