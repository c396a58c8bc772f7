package scenarios

import (
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
	"github.com/keyconform/keyconform/suites/scenario"
)

// minScenarios is the size the catalog must keep (issue 5: at least 40).
const minScenarios = 40

func TestCatalogScenariosLint(t *testing.T) {
	all := Catalog.All()
	if len(all) < minScenarios {
		t.Errorf("the catalog has %d scenarios, want at least %d", len(all), minScenarios)
	}
	for _, s := range all {
		t.Run(s.ShortName, func(t *testing.T) {
			if err := scenario.Lint(s, Manifests, features.APIKeyAuthProfile); err != nil {
				t.Error(err)
			}
			if _, err := os.Stat(s.Dir + ".go"); err != nil {
				t.Errorf("scenario %s: its file is not %s.go: %v", s.ShortName, s.Dir, err)
			}
		})
	}
}

// TestEveryManifestBelongsToAScenario keeps the fixture tree and the
// catalog in step: every folder is a scenario's (or base), every file is
// used.
func TestEveryManifestBelongsToAScenario(t *testing.T) {
	used := map[string]bool{}
	dirs := map[string]bool{"base": true}
	for _, s := range Catalog.All() {
		dirs[s.Dir] = true
		for _, f := range scenario.ManifestFiles(s) {
			used[f] = true
		}
	}
	err := fs.WalkDir(Manifests, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		if d.IsDir() {
			if !dirs[p] {
				t.Errorf("folder %s belongs to no scenario (a scenario's folder is named like its .go file)", p)
			}
			return nil
		}
		if path.Ext(p) == ".yaml" && !used[p] {
			t.Errorf("manifest %s is used by no scenario", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFeaturesHaveScenarios makes every feature of the profile testable,
// by a scenario needing it or by steps run only with it.
func TestFeaturesHaveScenarios(t *testing.T) {
	covered := map[features.Name]int{}
	for _, s := range Catalog.All() {
		for _, f := range append(s.Features, s.OnlyFeatures()...) {
			covered[f]++
		}
	}
	for _, f := range features.APIKeyAuthProfile.All() {
		if covered[f] == 0 {
			t.Errorf("feature %s has no scenario", f)
		}
	}
}

// TestLintCatchesBrokenScenarios proves the lint can fail.
func TestLintCatchesBrokenScenarios(t *testing.T) {
	good, ok := Catalog.Get("MissingKey")
	if !ok {
		t.Fatal("MissingKey not registered")
	}
	tests := map[string]func(s *scenario.Scenario){
		"unknown key in a request": func(s *scenario.Scenario) {
			s.Steps = append(slices.Clone(s.Steps), denied(anything.WithHeader("api-key", key("nobody"))))
		},
		"a 200 saying nothing of the backend": func(s *scenario.Scenario) {
			s.Steps = append(slices.Clone(s.Steps), scenario.Expect(anything, scenario.Response{Status: 200}))
		},
		"missing manifest": func(s *scenario.Scenario) {
			s.Manifests = append(slices.Clone(s.Manifests), "nope.yaml")
		},
		"unknown feature": func(s *scenario.Scenario) {
			s.Features = []features.Name{"APIKeyAuthTelepathy"}
		},
	}
	for name, breakIt := range tests {
		t.Run(name, func(t *testing.T) {
			s := good
			breakIt(&s)
			if err := scenario.Lint(s, Manifests, features.APIKeyAuthProfile); err == nil {
				t.Error("lint passed")
			}
		})
	}
}

func TestLintRejectsUnknownFieldsAndMissingNamespace(t *testing.T) {
	fsys := fstest.MapFS{}
	for name, text := range map[string]string{
		"x/typo.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  namespace: '{{.Namespace}}'\nstrngData:\n  a: b\n",
		"x/nons.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\nstringData:\n  a: b\n",
		"x/kind.yaml": "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: a\n  namespace: '{{.Namespace}}'\n",
		"x/good.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  namespace: '{{.Namespace}}'\nstringData:\n  a: b\n",
	} {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	for file, wantErr := range map[string]string{"typo.yaml": "strngData", "nons.yaml": "namespace", "kind.yaml": "Gadget", "good.yaml": ""} {
		s := scenario.Scenario{ShortName: "Lint", Description: "x", Features: []features.Name{features.APIKeyAuth},
			Manifests: []string{file}, Dir: "x", Steps: []scenario.Step{denied(anything)}}
		err := scenario.Lint(s, fsys, features.APIKeyAuthProfile)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%s: %v", file, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%s: err = %v, want it to mention %q", file, err, wantErr)
		}
	}
}

// TestBackendsUseTheImageHooksReplace keeps --backend-image meaningful:
// every scenario Deployment runs harness.BackendImage.
func TestBackendsUseTheImageHooksReplace(t *testing.T) {
	err := fs.WalkDir(Manifests, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		raw, err := fs.ReadFile(Manifests, path)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(raw), "\n") {
			if img, ok := strings.CutPrefix(strings.TrimSpace(line), "image: "); ok && img != harness.BackendImage {
				t.Errorf("%s runs image %s, not %s: --backend-image would not replace it", path, img, harness.BackendImage)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
