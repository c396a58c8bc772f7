package mutant

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// names parses names.go for every mutant: constant identifier and value.
func names(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "names.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				v, err := strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
				if err != nil {
					t.Fatal(err)
				}
				out[id.Name] = v
			}
		}
	}
	if len(out) < 25 {
		t.Fatalf("names.go declares %d mutants; the suites are measured against at least 25", len(out))
	}
	return out
}

// TestCatalogListsEveryMutant: `make mutants` runs what Catalog lists, so a
// mutant missing there would never be measured, and one without a call
// site in the controller or the sim would survive for nothing.
func TestCatalogListsEveryMutant(t *testing.T) {
	src, err := os.ReadFile("on.go")
	if err != nil {
		t.Fatal(err)
	}
	var sites bytes.Buffer
	for _, root := range []string{"../../controller", "../../sim"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			sites.Write(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	values := map[string]bool{}
	for id, v := range names(t) {
		if !strings.Contains(sites.String(), "mutant.On(mutant."+id+")") {
			t.Errorf("mutant %s has no call site (mutant.On(mutant.%s)) in the controller or the sim", id, id)
		}
		if n := strings.Count(string(src), "{"+id+", "); n != 1 {
			t.Errorf("Catalog lists %s %d times, want once", id, n)
		}
		if values[v] {
			t.Errorf("two mutants are named %q", v)
		}
		values[v] = true
	}
}

// TestNormalBuildsHoldNoMutant builds the local environment (controller and
// sim data plane, every mutant's home) with and without the mutants tag:
// without it no mutant name may be in the binary, the proof that every
// mutated branch was compiled away; with it they all are, the proof that
// the search can find them.
func TestNormalBuildsHoldNoMutant(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the local environment twice; -short leaves that out")
	}
	dir := t.TempDir()
	builds := map[string][]byte{"": nil, "mutants": nil}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for tags := range builds {
		wg.Go(func() {
			bin := filepath.Join(dir, "localenv"+tags)
			out, err := exec.Command("go", "build", "-tags="+tags, "-o", bin, "github.com/keyconform/keyconform/sim/cmd/localenv").CombinedOutput()
			if err != nil {
				t.Errorf("go build -tags=%q: %v\n%s", tags, err, out)
				return
			}
			data, err := os.ReadFile(bin)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			builds[tags] = data
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for id, v := range names(t) {
		if bytes.Contains(builds[""], []byte(v)) {
			t.Errorf("the normal build holds mutant %s (%q)", id, v)
		}
		if !bytes.Contains(builds["mutants"], []byte(v)) {
			t.Errorf("the mutants build lacks mutant %s (%q): the search is broken", id, v)
		}
	}
}
