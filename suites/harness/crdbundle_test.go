package harness

import (
	"strings"
	"testing"
)

func TestCheckGatewayAPIBundle(t *testing.T) {
	tests := []struct {
		installed string
		allow     bool
		wantErr   string
	}{
		{"v1.6.3", false, ""},
		{"v1.5.0", false, "--allow-crds-mismatch"},
		{"v1.5.0", true, ""},
	}
	for _, tt := range tests {
		err := CheckGatewayAPIBundle(tt.installed, "v1.6.3", tt.allow)
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckGatewayAPIBundle(%s, allow=%v) = %v, want %q", tt.installed, tt.allow, err, tt.wantErr)
		}
	}
}
