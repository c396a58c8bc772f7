package echobasic

import (
	"crypto/tls"
	"net/url"
	"slices"
	"strings"
	"testing"

	suiteconfig "sigs.k8s.io/gateway-api/conformance/utils/config"
	"sigs.k8s.io/gateway-api/conformance/utils/roundtripper"
)

// TestConformanceClientReadsEcho makes requests with the conformance
// suite's own round tripper, which decodes the echo into its
// CapturedRequest, and checks what the suite's comparison checks. (Its
// utils/http package, with CompareRoundTrip, would bring testify into
// go.mod, so the comparison is restated here.)
func TestConformanceClientReadsEcho(t *testing.T) {
	p := newPKI(t, serverName)
	env, files := tlsEnv(p, true)
	c := start(t, env, files)
	rt := &roundtripper.DefaultRoundTripper{TimeoutConfig: suiteconfig.DefaultTimeoutConfig()}
	clientCert := func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &p.clientCert, nil }

	tests := []struct {
		name       string
		protocol   string
		port       int
		path       string
		method     string
		respHeader map[string]string // the suite's BackendSetResponseHeaders
		withCert   bool
		// status is the expected status; echoed ones are checked field by
		// field.
		status    int
		echoed    bool
		respProto string
		sni       string
	}{
		{name: "http", protocol: "HTTP", port: 3000, path: "/foo//bar", respHeader: map[string]string{"X-Header-Set": "set-value", "x-lower": "v"},
			status: 200, echoed: true, respProto: "HTTP/1.1"},
		{name: "http post", protocol: "HTTP", port: 3000, path: "/anything", method: "POST", status: 200, echoed: true, respProto: "HTTP/1.1"},
		{name: "http status", protocol: "HTTP", port: 3000, path: "/status/503", status: 503, respProto: "HTTP/1.1"},
		{name: "http retry succeeds", protocol: "HTTP", port: 3000, path: "/retry/code-500?uuid=c1&succeedAfter=0&responseCode=500", status: 200, echoed: true, respProto: "HTTP/1.1"},
		{name: "http retry fails", protocol: "HTTP", port: 3000, path: "/retry/code-500?uuid=c2&succeedAfter=1&responseCode=500", status: 500, respProto: "HTTP/1.1"},
		{name: "h2c prior knowledge", protocol: roundtripper.H2CPriorKnowledgeProtocol, port: 3001, path: "/h2c",
			respHeader: map[string]string{"X-Header-Set": "h2"}, status: 200, echoed: true, respProto: "HTTP/2.0"},
		{name: "https", protocol: roundtripper.HTTPSProtocol, port: 8443, path: "/tls?x=y", status: 200, echoed: true, respProto: "HTTP/1.1", sni: serverName},
		{name: "https client certificate", protocol: roundtripper.HTTPSProtocol, port: 8443, path: "/mtls", withCert: true,
			status: 200, echoed: true, respProto: "HTTP/1.1", sni: serverName},
		{name: "h2", protocol: roundtripper.H2Protocol, port: 8443, path: "/h2", withCert: true,
			respHeader: map[string]string{"X-Header-Set": "over-h2"}, status: 200, echoed: true, respProto: "HTTP/2.0", sni: serverName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			scheme := "http"
			if tt.port == 8443 {
				scheme = "https"
			}
			path, query, _ := strings.Cut(tt.path, "?")
			// Built as the suite's MakeRequest builds it: X-Echo-Set-Header
			// is always sent, empty when no response header is wanted.
			var set []string
			for name, v := range tt.respHeader {
				set = append(set, name+":"+v)
			}
			req := roundtripper.Request{
				T:        t,
				URL:      url.URL{Scheme: scheme, Host: c.addr(t, tt.port), Path: path, RawQuery: query},
				Host:     "conformance.example.com",
				Protocol: tt.protocol,
				Method:   method,
				Headers: map[string][]string{
					"X-Echo-Set-Header": {strings.Join(set, ",")},
					"X-Request-Probe":   {"probe-value"},
				},
			}
			if scheme == "https" {
				req.ServerName = serverName
				req.ServerCertificate = p.caPEM
				if tt.withCert {
					req.GetClientCertificateHook = clientCert
				}
			}
			cReq, cRes, err := rt.CaptureRoundTrip(req)
			if err != nil {
				t.Fatalf("CaptureRoundTrip: %v", err)
			}
			if cRes.StatusCode != tt.status || cRes.Protocol != tt.respProto {
				t.Fatalf("status %d over %s, want %d over %s", cRes.StatusCode, cRes.Protocol, tt.status, tt.respProto)
			}
			if !tt.echoed {
				// Not JSON: the suite assumes the method and reads no more.
				if cReq.Method != method || cReq.Path != "" {
					t.Errorf("captured %+v from a non-echo answer", cReq)
				}
				return
			}
			if cReq.Path != tt.path || cReq.Host != "conformance.example.com" || cReq.Method != method ||
				cReq.Namespace != "gateway-conformance-infra" || !strings.HasPrefix(cReq.Pod, "infra-backend-v1") ||
				cReq.HTTPPort != "3000" || cReq.Protocol != tt.respProto {
				t.Errorf("captured request %+v", cReq)
			}
			if got := lowerKeys(cReq.Headers)["x-request-probe"]; strings.Join(got, ",") != "probe-value" {
				t.Errorf("captured request header x-request-probe = %q", got)
			}
			resp := lowerKeys(cRes.Headers)
			for name, v := range tt.respHeader {
				if got := strings.Join(resp[strings.ToLower(name)], ","); strings.TrimSpace(got) != v {
					t.Errorf("response header %s = %q, want %q", name, got, v)
				}
			}
			if tt.sni != "" && cReq.TLS.ServerName != tt.sni {
				t.Errorf("captured SNI %q, want %q", cReq.TLS.ServerName, tt.sni)
			}
			if tt.sni == "" && cReq.TLS.Version != "" {
				t.Errorf("TLS captured over plain text: %+v", cReq.TLS)
			}
			if got := slices.Contains(cReq.TLS.PeerCertificates, p.clientCertPEM); got != tt.withCert {
				t.Errorf("client certificate captured = %v, want %v", got, tt.withCert)
			}
		})
	}
}

// lowerKeys indexes headers by lower-case name, as the suite compares them.
func lowerKeys(h map[string][]string) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = v
	}
	return out
}
