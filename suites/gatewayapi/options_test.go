package gatewayapi

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadBaseline(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tt := range []struct {
		name, text, wantErr string
		want                []string
	}{
		{"two", "expectedFailures:\n  B: why\n  A: because\n", "", []string{"A", "B"}},
		{"no reason", "expectedFailures:\n  A: ''\n", "A has no reason", nil},
		{"unknown field", "expectedFailure:\n  A: why\n", "unknown field", nil},
	} {
		got, err := loadBaseline(write(tt.name+".yaml", tt.text))
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || !slices.Equal(got, tt.want)):
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	// The committed baseline loads.
	if _, err := loadBaseline(filepath.Join("baselines", "envoy-gateway.yaml")); err != nil {
		t.Error(err)
	}
}
