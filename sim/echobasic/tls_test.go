package echobasic

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

const serverName = "echo.example.com"

// tlsEnv turns HTTPS on with the files of p; withCAs asks for client
// certificates.
func tlsEnv(p *pki, withCAs bool) (map[string]string, map[string][]byte) {
	env := baseEnv()
	env["TLS_SERVER_CERT"] = "/etc/secret-volume/crt"
	env["TLS_SERVER_PRIVKEY"] = "/etc/secret-volume/key"
	files := map[string][]byte{"/etc/secret-volume/crt": p.serverCertPEM, "/etc/secret-volume/key": p.serverKeyPEM}
	if withCAs {
		env["TLS_CLIENT_CACERTS"] = "/etc/ca/ca.crt"
		files["/etc/ca/ca.crt"] = p.caPEM
	}
	return env, files
}

// tlsClient trusts p's CA; h2 negotiates HTTP/2, otherwise no ALPN is
// offered (as net/http's Transport with a TLS config of its own).
func tlsClient(p *pki, h2 bool, maxVersion uint16, cert *tls.Certificate) *http.Client {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.caPEM)
	cfg := &tls.Config{ServerName: serverName, RootCAs: roots, MaxVersion: maxVersion}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	if h2 {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{TLSClientConfig: cfg}}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

func TestHTTPSPort(t *testing.T) {
	p := newPKI(t, serverName)
	other := newPKI(t, serverName)
	tests := []struct {
		name       string
		withCAs    bool
		h2         bool
		maxVersion uint16
		cert       *tls.Certificate
		path       string
		wantErr    bool
		status     int
		body       string
		want       *echoedTLS // nil: not an echo
		proto      string
	}{
		{name: "http/1.1", path: "/x", status: 200, proto: "HTTP/1.1",
			want: &echoedTLS{Version: "TLSv1.3", ServerName: serverName, CipherSuite: "TLS_AES_128_GCM_SHA256"}},
		{name: "h2", h2: true, path: "/x", status: 200, proto: "HTTP/2.0",
			want: &echoedTLS{Version: "TLSv1.3", ServerName: serverName, NegotiatedProtocol: "h2", CipherSuite: "TLS_AES_128_GCM_SHA256"}},
		{name: "tls 1.2", maxVersion: tls.VersionTLS12, path: "/x", status: 200, proto: "HTTP/1.1",
			want: &echoedTLS{Version: "TLSv1.2", ServerName: serverName, CipherSuite: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}},
		{name: "client certificate echoed", withCAs: true, cert: &p.clientCert, path: "/x", status: 200, proto: "HTTP/1.1",
			want: &echoedTLS{Version: "TLSv1.3", ServerName: serverName, CipherSuite: "TLS_AES_128_GCM_SHA256", PeerCertificates: []string{p.clientCertPEM}}},
		{name: "client certificate optional", withCAs: true, path: "/x", status: 200, proto: "HTTP/1.1",
			want: &echoedTLS{Version: "TLSv1.3", ServerName: serverName, CipherSuite: "TLS_AES_128_GCM_SHA256"}},
		{name: "client certificate not asked for without CAs", cert: &p.clientCert, path: "/x", status: 200, proto: "HTTP/1.1",
			want: &echoedTLS{Version: "TLSv1.3", ServerName: serverName, CipherSuite: "TLS_AES_128_GCM_SHA256"}},
		{name: "untrusted client certificate refused", withCAs: true, cert: &other.clientCert, path: "/x", wantErr: true},
		{name: "health", path: "/health", status: 200, body: "OK"},
		{name: "status", h2: true, path: "/status/418", status: 418},
		{name: "slashes folded", path: "/a//b", status: 200, proto: "HTTP/1.1",
			want: &echoedTLS{Version: "TLSv1.3", ServerName: serverName, CipherSuite: "TLS_AES_128_GCM_SHA256"}},
		// HTTP/2 has no connection of the request's own to reset.
		{name: "retry reset over h2", h2: true, path: "/retry/?uuid=h2&succeedAfter=1", status: 500,
			body: `{"message":"response writer does not support hijacking"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, files := tlsEnv(p, tt.withCAs)
			c := start(t, env, files)
			req, err := http.NewRequest(http.MethodGet, "https://"+c.addr(t, 8443)+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tlsClient(p, tt.h2, tt.maxVersion, tt.cert).Do(req)
			if tt.wantErr {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("answered %d, want a handshake failure", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tt.status, body)
			}
			if tt.body != "" && string(body) != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
			if tt.want == nil {
				return
			}
			e := decodeEcho(t, body)
			if e.Path != tt.path || e.Proto != tt.proto || e.HTTPPort != "3000" || e.Namespace != "gateway-conformance-infra" {
				t.Errorf("echo %+v", e)
			}
			if e.TLS == nil {
				t.Fatal("no tls in the echo")
			}
			if got, want := *e.TLS, *tt.want; got.Version != want.Version || got.ServerName != want.ServerName ||
				got.NegotiatedProtocol != want.NegotiatedProtocol || got.CipherSuite != want.CipherSuite ||
				strings.Join(got.PeerCertificates, "|") != strings.Join(want.PeerCertificates, "|") {
				t.Errorf("tls = %+v\nwant %+v", got, want)
			}
			// Optional fields are left out when empty, not sent as "" or null.
			if tt.want.NegotiatedProtocol == "" && strings.Contains(string(body), "negotiatedProtocol") ||
				tt.want.PeerCertificates == nil && strings.Contains(string(body), "peerCertificates") {
				t.Errorf("empty optional field in %s", body)
			}
		})
	}
}

// The HTTP and HTTPS listeners are one container: a retry simulation
// counts attempts on both.
func TestRetryAttemptsSharedWithHTTPS(t *testing.T) {
	p := newPKI(t, serverName)
	env, files := tlsEnv(p, false)
	c := start(t, env, files)
	const path = "/retry/?uuid=shared&succeedAfter=1&responseCode=503"
	resp, err := rawRoundTrip(t, c.addr(t, 3000), "GET "+path+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	if err != nil || resp.status != 503 {
		t.Fatalf("HTTP: %+v, %v", resp, err)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://"+c.addr(t, 8443)+path, nil)
	if r, _ := do(t, tlsClient(p, false, 0, nil), req); r.StatusCode != 200 {
		t.Errorf("HTTPS after one failure: %d, want 200", r.StatusCode)
	}
	// Over HTTP/1.1 with TLS the connection is closed, without a reset.
	req, _ = http.NewRequest(http.MethodGet, "https://"+c.addr(t, 8443)+"/retry/?uuid=tls-close&succeedAfter=1", nil)
	if r, err := tlsClient(p, false, 0, nil).Do(req); err == nil {
		r.Body.Close()
		t.Errorf("HTTPS retry answered %d, want the connection closed", r.StatusCode)
	}
	if !strings.Contains(c.log.String(), "Starting server, listening on port 8443 (https)\n") {
		t.Errorf("log:\n%s", c.log.String())
	}
}

func TestTLSConfigErrors(t *testing.T) {
	p := newPKI(t, serverName)
	other := newPKI(t, serverName)
	tests := []struct {
		name     string
		change   func(env map[string]string, files map[string][]byte)
		noRead   bool
		wantErr  string
		notExist bool
	}{
		{name: "no certificate file", change: func(_ map[string]string, f map[string][]byte) { delete(f, "/etc/secret-volume/crt") },
			wantErr: "TLS_SERVER_CERT", notExist: true},
		{name: "no key file", change: func(_ map[string]string, f map[string][]byte) { delete(f, "/etc/secret-volume/key") },
			wantErr: "TLS_SERVER_PRIVKEY", notExist: true},
		{name: "no CA file, reported first", change: func(_ map[string]string, f map[string][]byte) {
			delete(f, "/etc/ca/ca.crt")
			delete(f, "/etc/secret-volume/crt")
		}, wantErr: "TLS_CLIENT_CACERTS", notExist: true},
		{name: "CA file without PEM", change: func(_ map[string]string, f map[string][]byte) { f["/etc/ca/ca.crt"] = []byte("nope") },
			wantErr: `TLS_CLIENT_CACERTS "/etc/ca/ca.crt" holds no PEM certificate`},
		{name: "key of another certificate", change: func(_ map[string]string, f map[string][]byte) { f["/etc/secret-volume/key"] = other.serverKeyPEM },
			wantErr: "private key does not match public key"},
		{name: "no ReadFile", noRead: true, wantErr: "no ReadFile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, files := tlsEnv(p, true)
			if tt.change != nil {
				tt.change(env, files)
			}
			read := mapFS(files)
			if tt.noRead {
				read = nil
			}
			bound := 0
			_, err := Start(Options{Env: env, ReadFile: read, Listen: func(int) (net.Listener, error) {
				bound++
				return net.Listen("tcp", "127.0.0.1:0")
			}})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one with %q", err, tt.wantErr)
			}
			if tt.notExist && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %v does not wrap fs.ErrNotExist", err)
			}
			if bound != 0 {
				t.Errorf("%d ports bound before the TLS files were checked", bound)
			}
		})
	}
}

// Serve, ServeH2C and ServeTLS open the listeners one by one, for a caller
// that binds them itself; they are one container as with Start.
func TestServeListenersOneByOne(t *testing.T) {
	p := newPKI(t, serverName)
	env, files := tlsEnv(p, false)
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	httpLn, h2cLn, httpsLn := listen(), listen(), listen()
	s, err := Serve(httpLn, env)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.ServeH2C(h2cLn)
	if err := s.ServeTLS(httpsLn, mapFS(files)); err != nil {
		t.Fatal(err)
	}

	for _, probe := range []struct {
		client *http.Client
		url    string
		proto  string
	}{
		{http.DefaultClient, "http://" + httpLn.Addr().String() + "/a", "HTTP/1.1"},
		{h2cClient(), "http://" + h2cLn.Addr().String() + "/a", "HTTP/2.0"},
		{tlsClient(p, true, 0, nil), "https://" + httpsLn.Addr().String() + "/a", "HTTP/2.0"},
	} {
		req, _ := http.NewRequest(http.MethodGet, probe.url, nil)
		resp, body := do(t, probe.client, req)
		if e := decodeEcho(t, body); resp.StatusCode != 200 || e.Proto != probe.proto || e.Pod != "infra-backend-v1-abc" {
			t.Errorf("%s: %d %+v", probe.url, resp.StatusCode, e)
		}
	}

	// ServeTLS refuses when the environment leaves HTTPS off.
	plain, err := Serve(listen(), baseEnv())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	ln := listen()
	defer ln.Close()
	if err := plain.ServeTLS(ln, mapFS(files)); err == nil || !strings.Contains(err.Error(), "TLS is off") {
		t.Errorf("ServeTLS without TLS env: %v", err)
	}
}
