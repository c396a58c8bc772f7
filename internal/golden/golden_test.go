package golden

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// recorder captures what Compare reports instead of failing the test.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestCompare(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.yaml")
	*update = true
	Compare(t, path, []byte("a: 1\nkey: secret\n"), nil)
	*update = false

	Compare(t, path, []byte("a: 1\nkey: secret\n"), nil) // equal: no report

	r := &recorder{TB: t}
	Compare(r, path, []byte("a: 2\nkey: secret-2\n"), func(s string) string { return strings.ReplaceAll(s, "secret", "<redacted>") })
	if len(r.errors) != 1 {
		t.Fatalf("got %d reports, want 1", len(r.errors))
	}
	msg := r.errors[0]
	if !strings.Contains(msg, "a: 2") || !strings.Contains(msg, path) {
		t.Errorf("report does not show the change and the file:\n%s", msg)
	}
	if strings.Contains(msg, "secret") {
		t.Errorf("report leaks what redact removes:\n%s", msg)
	}
}
