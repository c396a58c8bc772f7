// Package egmodule locates, for tests, Envoy Gateway's Go module at the
// version the project pins (scripts/envoy-gateway.sh builds the same one)
// in the module cache, where `make tools-envoy-gateway` fetches it: tests
// read the data it ships (its translator's golden outputs) from there and
// never copy it into this repository.
package egmodule

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Path and Version are the module and its pinned version.
const (
	Path    = "github.com/envoyproxy/gateway"
	Version = "v1.9.1"
)

// Dir is the module's directory in the module cache, holding rel (a
// slash-separated path that must exist in it); the test fails, saying what
// to run, when it is not there.
func Dir(t testing.TB, rel string) string {
	t.Helper()
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			t.Fatalf("go env GOMODCACHE: %v", err)
		}
		cache = strings.TrimSpace(string(out))
	}
	dir := filepath.Join(cache, filepath.FromSlash(Path+"@"+Version))
	if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel))); err != nil || !st.IsDir() {
		t.Fatalf("%s@%s is not in the module cache with %s (%v): run make tools-envoy-gateway, which fetches it", Path, Version, rel, err)
	}
	return dir
}
