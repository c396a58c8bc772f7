package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"ok", []string{"--xds-address=127.0.0.1:18000", "--node-id=ns/gw", "--listen-override=8080=127.0.0.1:0",
			"--pod-network=10.244.0.10:8000=127.0.0.1:38000", "--pod-network=10.244.0.11:8000=127.0.0.1:38001"}, ""},
		{"missing both", nil, "missing --xds-address and --node-id"},
		{"missing node", []string{"--xds-address=127.0.0.1:1"}, "missing --node-id"},
		{"bad override", []string{"--xds-address=127.0.0.1:1", "--node-id=a/b", "--listen-override=http=127.0.0.1:1"}, "want PORT=ADDR"},
		{"non-loopback pod", []string{"--xds-address=127.0.0.1:1", "--node-id=a/b", "--pod-network=10.244.0.10:80=10.0.0.1:80"}, "not loopback"},
		{"bad level", []string{"--xds-address=127.0.0.1:1", "--node-id=a/b", "--log-level=loud"}, "--log-level"},
		{"stray arg", []string{"--xds-address=127.0.0.1:1", "--node-id=a/b", "extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.overrides[8080] != "127.0.0.1:0" || len(c.pods) != 2 {
					t.Fatalf("parsed %+v", c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
