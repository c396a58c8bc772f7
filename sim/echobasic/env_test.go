package echobasic

import (
	"errors"
	"net"
	"strings"
	"testing"
)

func TestPorts(t *testing.T) {
	tests := []struct {
		name               string
		env                map[string]string
		http, h2c, https   int
		wantErr            string
		wantNotImplemented bool
	}{
		{name: "defaults", env: nil, http: 3000, h2c: 3001},
		{name: "empty values are unset", env: map[string]string{"HTTP_PORT": "", "H2C_PORT": "", "HTTPS_PORT": ""}, http: 3000, h2c: 3001},
		{name: "custom", env: map[string]string{"HTTP_PORT": "8080", "H2C_PORT": "8081", "HTTPS_PORT": "9443"}, http: 8080, h2c: 8081},
		{name: "tls on, default port", env: map[string]string{"TLS_SERVER_CERT": "/c", "TLS_SERVER_PRIVKEY": "/k"}, http: 3000, h2c: 3001, https: 8443},
		{name: "tls on, custom port", env: map[string]string{"TLS_SERVER_CERT": "/c", "TLS_SERVER_PRIVKEY": "/k", "HTTPS_PORT": "9443"}, http: 3000, h2c: 3001, https: 9443},
		{name: "certificate without key leaves tls off", env: map[string]string{"TLS_SERVER_CERT": "/c"}, http: 3000, h2c: 3001},
		// The conformance suite's TCP backend spells the key variable this
		// way, which the HTTP server does not read.
		{name: "misspelt key leaves tls off", env: map[string]string{"TLS_SERVER_CERT": "/c", "TLS_SERVER_PRIV_KEY": "/k"}, http: 3000, h2c: 3001},
		{name: "client CAs alone leave tls off", env: map[string]string{"TLS_CLIENT_CACERTS": "/ca"}, http: 3000, h2c: 3001},
		{name: "bad http port", env: map[string]string{"HTTP_PORT": "http"}, wantErr: `HTTP_PORT="http"`},
		{name: "bad h2c port", env: map[string]string{"H2C_PORT": "70000"}, wantErr: `H2C_PORT="70000"`},
		{name: "bad https port ignored when tls off", env: map[string]string{"HTTPS_PORT": "x"}, http: 3000, h2c: 3001},
		{name: "bad https port", env: map[string]string{"HTTPS_PORT": "0", "TLS_SERVER_CERT": "/c", "TLS_SERVER_PRIVKEY": "/k"}, wantErr: `HTTPS_PORT="0"`},
		{name: "grpc mode", env: map[string]string{"GRPC_ECHO_SERVER": "1"}, http: 3000},
		{name: "grpc tls, its key variable", env: map[string]string{"GRPC_ECHO_SERVER": "1", "TLS_SERVER_CERT": "/c", "TLS_SERVER_PRIV_KEY": "/k"}, http: 3000, https: 8443},
		{name: "grpc ignores the http key variable", env: map[string]string{"GRPC_ECHO_SERVER": "1", "TLS_SERVER_CERT": "/c", "TLS_SERVER_PRIVKEY": "/k"}, http: 3000},
		{name: "grpc ignores H2C_PORT", env: map[string]string{"GRPC_ECHO_SERVER": "1", "H2C_PORT": "x"}, http: 3000},
		{name: "tcp mode", env: map[string]string{"TCP_ECHO_SERVER": "1"}, http: 3000},
		{name: "tcp mode, its ports and key variable", env: map[string]string{"TCP_ECHO_SERVER": "1", "TCP_PORT": "4000", "TLS_PORT": "4443",
			"TLS_SERVER_CERT": "/c", "TLS_SERVER_PRIV_KEY": "/k", "HTTP_PORT": "x"}, http: 4000, https: 4443},
		{name: "tcp mode checks TLS_PORT though TLS is off", env: map[string]string{"TCP_ECHO_SERVER": "1", "TLS_PORT": "tls"}, wantErr: `TLS_PORT="tls"`},
		{name: "grpc wins over tcp", env: map[string]string{"TCP_ECHO_SERVER": "1", "GRPC_ECHO_SERVER": "1", "TCP_PORT": "x"}, http: 3000},
		{name: "udp mode", env: map[string]string{"UDP_ECHO_SERVER": "true"}, wantErr: "UDP_ECHO_SERVER", wantNotImplemented: true},
		{name: "grpc checked first", env: map[string]string{"UDP_ECHO_SERVER": "1", "GRPC_ECHO_SERVER": "1"}, http: 3000},
		{name: "empty mode is http", env: map[string]string{"TCP_ECHO_SERVER": ""}, http: 3000, h2c: 3001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, c, s, err := Ports(tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one naming %s", err, tt.wantErr)
				}
				if got := errors.Is(err, ErrModeNotImplemented); got != tt.wantNotImplemented {
					t.Errorf("errors.Is(err, ErrModeNotImplemented) = %v, want %v", got, tt.wantNotImplemented)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h != tt.http || c != tt.h2c || s != tt.https {
				t.Errorf("Ports = %d, %d, %d; want %d, %d, %d", h, c, s, tt.http, tt.h2c, tt.https)
			}
		})
	}
}

func TestServeAndStartRefuseOtherModes(t *testing.T) {
	env := map[string]string{"UDP_ECHO_SERVER": "1"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := Serve(ln, env); !errors.Is(err, ErrModeNotImplemented) || !strings.Contains(err.Error(), "UDP_ECHO_SERVER") {
		t.Errorf("Serve error = %v", err)
	}
	bound := false
	_, err = Start(Options{Env: env, Listen: func(int) (net.Listener, error) { bound = true; return nil, errors.New("unexpected") }})
	if !errors.Is(err, ErrModeNotImplemented) || bound {
		t.Errorf("Start error = %v, bound = %v", err, bound)
	}
}
