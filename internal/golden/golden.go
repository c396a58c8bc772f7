// Package golden compares generated output with files reviewed as data
// under testdata/. `go test ... -update` rewrites the files from the
// current output instead, for review in the diff.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files from the current output")

// Compare fails t when got differs from the file at path, showing a diff.
// redact, when not nil, is applied to that diff first: generated config may
// hold API keys, and a failure message must not.
func Compare(t testing.TB, path string, got []byte, redact func(string) string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (rerun with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		if redact != nil {
			diff = redact(diff)
		}
		t.Errorf("output differs from %s (-want +got; if the change is intended, rerun with -update and review the file):\n%s", path, diff)
	}
}
