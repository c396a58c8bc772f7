package targets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestConfigLoadsAsKubectl follows client-go's default loading rules,
// which kubectl uses: --kubeconfig alone when given, else every file of
// $KUBECONFIG merged (the first to set a value wins), and --context over
// the current context.
func TestRestConfigLoadsAsKubectl(t *testing.T) {
	dir := t.TempDir()
	write := func(name, current string, contexts ...string) string {
		var b strings.Builder
		b.WriteString("apiVersion: v1\nkind: Config\ncurrent-context: " + current + "\nclusters:\n")
		for _, c := range contexts {
			b.WriteString("- name: " + c + "\n  cluster:\n    server: https://" + c + ".invalid:6443\n")
		}
		b.WriteString("users:\n- name: u\n  user:\n    token: t\ncontexts:\n")
		for _, c := range contexts {
			b.WriteString("- name: " + c + "\n  context:\n    cluster: " + c + "\n    user: u\n")
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a", "alpha", "alpha")
	b := write("b", "beta", "beta", "gamma")
	t.Setenv("KUBECONFIG", a+string(os.PathListSeparator)+b)
	tests := []struct {
		name, kubeconfig, context string
		host, wantErr             string
	}{
		{name: "merged, first file's current context", host: "https://alpha.invalid:6443"},
		{name: "merged, a context of the second file", context: "gamma", host: "https://gamma.invalid:6443"},
		{name: "explicit file only", kubeconfig: b, host: "https://beta.invalid:6443"},
		{name: "explicit file ignores $KUBECONFIG", kubeconfig: b, context: "alpha", wantErr: `context "alpha"`},
		{name: "unknown context", context: "delta", wantErr: "kubectl config get-contexts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := restConfig(tt.kubeconfig, tt.context)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case cfg.Host != tt.host:
				t.Fatalf("host %s, want %s", cfg.Host, tt.host)
			}
		})
	}
}
