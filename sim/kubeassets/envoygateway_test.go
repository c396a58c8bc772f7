package kubeassets

import (
	"path/filepath"
	"strings"
	"testing"
)

// FindEnvoyGateway finds what `make tools-envoy-gateway` links into the
// repository's bin/envoy-gateway, from anywhere in the repository, and
// otherwise says what to run.
func TestFindEnvoyGateway(t *testing.T) {
	tests := []struct {
		name    string
		entries map[string]string
		wantErr string
	}{
		{"built", map[string]string{"go.mod": "", "bin/envoy-gateway/envoy-gateway": "+x", "bin/envoy-gateway/crds/": ""}, ""},
		{"not built", map[string]string{"go.mod": ""}, "run `make tools-envoy-gateway`"},
		{"binary not executable", map[string]string{"go.mod": "", "bin/envoy-gateway/envoy-gateway": "", "bin/envoy-gateway/crds/": ""}, "is not an executable file"},
		{"CRDs missing", map[string]string{"go.mod": "", "bin/envoy-gateway/envoy-gateway": "+x"}, "CRDs not found"},
		{"outside the repository", map[string]string{}, "locating Envoy Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			layout(t, root, tt.entries)
			t.Chdir(root)
			eg, err := FindEnvoyGateway()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if eg.Binary != filepath.Join(root, "bin/envoy-gateway/envoy-gateway") || eg.CRDs != filepath.Join(root, "bin/envoy-gateway/crds") {
				t.Errorf("found %+v", eg)
			}
		})
	}
}
