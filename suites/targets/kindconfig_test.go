package targets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckKindConfig accepts a kind cluster config and rejects, saying
// what a kind config looks like, anything else given to --kind-config.
func TestCheckKindConfig(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
		wantErr    []string
	}{
		{"a kind config", file("kind.yaml", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n"), nil},
		{"missing", filepath.Join(dir, "nope.yaml"), []string{"--kind-config", "no such file", "give the path of a kind cluster config file"}},
		{"a kubeconfig", file("kubeconfig", "apiVersion: v1\nkind: Config\nclusters: []\n"),
			[]string{`apiVersion "v1" and kind "Config"`, "not a kind cluster config", "`kind: Cluster`", "kind.x-k8s.io/v1alpha4"}},
		{"an older kind config", file("old.yaml", "kind: Cluster\napiVersion: kind.sigs.k8s.io/v1alpha3\n"), []string{`"kind.sigs.k8s.io/v1alpha3"`, "kind.x-k8s.io/v1alpha4"}},
		{"not YAML", file("bad.yaml", "kind: [Cluster\n"), []string{"is not YAML"}},
		{"empty", file("empty.yaml", ""), []string{`apiVersion "" and kind ""`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkKindConfig(tt.path)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v, want it to say %q", err, want)
				}
			}
		})
	}
}
