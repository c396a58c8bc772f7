package main

import (
	"io"
	"net"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		port    uint32
		want    string
		wantErr string
	}{
		{name: "defaults", args: nil},
		{name: "override", args: []string{"--listen-override", "8080=127.0.0.1:9080"}, port: 8080, want: "127.0.0.1:9080"},
		{name: "non-loopback override", args: []string{"--listen-override", "8080=0.0.0.0:9080"}, wantErr: "must be a loopback"},
		{name: "bad level", args: []string{"--log-level", "loud"}, wantErr: "log-level"},
		{name: "stray argument", args: []string{"now"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.port != 0 && c.overrides[tt.port] != tt.want {
				t.Errorf("override for %d = %q, want %q", tt.port, c.overrides[tt.port], tt.want)
			}
		})
	}
}

// TestPortTakenSaysWhatToDo holds the gateway's port and checks the error
// names it and the way to choose another.
func TestPortTakenSaysWhatToDo(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = checkFree(l.Addr().String(), 8080)
	if err == nil {
		t.Fatal("checkFree of a taken port succeeded")
	}
	for _, want := range []string{l.Addr().String(), "make run LISTEN_OVERRIDE=8080=127.0.0.1:9080"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	l.Close()
	if err := checkFree(l.Addr().String(), 8080); err != nil {
		t.Errorf("checkFree of a free port: %v", err)
	}
}
