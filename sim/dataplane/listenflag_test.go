package dataplane

import (
	"strings"
	"testing"
)

func TestListenOverrideFlag(t *testing.T) {
	tests := []struct {
		in      string
		port    uint32
		want    string
		wantErr string
	}{
		{in: "8080=127.0.0.1:9080", port: 8080, want: "127.0.0.1:9080"},
		{in: "8080=127.0.0.1:0", port: 8080, want: "127.0.0.1:0"},
		{in: "443=[::1]:8443", port: 443, want: "[::1]:8443"},
		{in: "http=127.0.0.1:1", wantErr: "want PORT=ADDR"},
		{in: "0=127.0.0.1:1", wantErr: "want PORT=ADDR"},
		{in: "8080=", wantErr: "want PORT=ADDR"},
		{in: "8080=10.0.0.1:80", wantErr: "must be a loopback"},
		{in: "8080=localhost:80", wantErr: "must be a loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f := ListenOverrideFlag{}
			err := f.Set(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Set(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || f[tt.port] != tt.want {
				t.Fatalf("Set(%q) = %v, map %v; want %d=%s", tt.in, err, f, tt.port, tt.want)
			}
		})
	}
}
