package echobasic

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Redirects are net/http's ServeMux's, as in the image: 307 with the Go
// this is built with (older ones answered 301).

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport:     &http.Transport{DisableKeepAlives: true},
}

func TestHTTPPortEndpoints(t *testing.T) {
	c := start(t, baseEnv(), nil)
	addr := c.addr(t, 3000)

	const jsonType, textType = "application/json", "text/plain; charset=utf-8"
	tests := []struct {
		name   string
		method string
		target string // path and query, sent as is
		host   string
		status int
		// contentType and body are checked when not empty; echoPath marks
		// a JSON echo, whose "path" must be it.
		contentType string
		body        string
		noBody      bool
		echoPath    string
		location    string
		// then is the start of a second response, after an
		// informational one.
		then string
	}{
		{name: "echo", target: "/foo?x=1", host: "example.com", status: 200, contentType: jsonType, echoPath: "/foo?x=1"},
		{name: "echo root", target: "/", status: 200, contentType: jsonType, echoPath: "/"},
		{name: "echo post", method: "POST", target: "/anything", status: 200, contentType: jsonType, echoPath: "/anything"},
		{name: "double slashes are echoed, not redirected", target: "/a//b//c", status: 200, contentType: jsonType, echoPath: "/a//b//c"},
		{name: "encoded path echoed as sent", target: "/a%2Fb/%7Ec", status: 200, contentType: jsonType, echoPath: "/a%2Fb/%7Ec"},
		{name: "dot segments redirect", target: "/a/../b", status: 307, location: "/b"},
		{name: "three slashes still redirect", target: "///x", status: 307, location: "/x"},
		{name: "health", target: "/health", status: 200, contentType: textType, body: "OK"},
		{name: "health any method", method: "DELETE", target: "/health", status: 200, body: "OK"},
		{name: "health with query", target: "/health?x=1", status: 200, body: "OK"},
		{name: "under health echoes", target: "/health/x", status: 200, contentType: jsonType, echoPath: "/health/x"},
		{name: "status 404", target: "/status/404", status: 404, noBody: true},
		{name: "status 503", target: "/status/503", status: 503, noBody: true},
		{name: "status 200", target: "/status/200", status: 200, noBody: true},
		{name: "status 302 has no location", target: "/status/302", status: 302, noBody: true},
		{name: "status 1xx then 200", target: "/status/103", status: 103, noBody: true, then: "HTTP/1.1 200 OK\r\n"},
		{name: "status with query", target: "/status/404?x=1", status: 400, noBody: true},
		{name: "status not a number", target: "/status/abc", status: 400, noBody: true},
		{name: "status four digits", target: "/status/4040", status: 400, noBody: true},
		{name: "status empty", target: "/status/", status: 400, noBody: true},
		{name: "status with double slash routed but target not matched", target: "/status//404", status: 400, noBody: true},
		{name: "status without slash redirects", target: "/status", status: 307, location: "/status/"},
		{name: "retry without slash redirects", target: "/retry", status: 307, location: "/retry/"},
		{name: "delay", target: "/d?delay=30ms", status: 200, contentType: jsonType, echoPath: "/d?delay=30ms"},
		{name: "bad delay", target: "/d?delay=soon", status: 500, contentType: jsonType, body: `{"message":"time: invalid duration \"soon\""}`},
		{name: "websocket path without upgrade", target: "/ws", status: 400},
		{name: "under ws echoes", target: "/ws/x", status: 200, contentType: jsonType, echoPath: "/ws/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			host := tt.host
			if host == "" {
				host = addr
			}
			began := time.Now()
			resp, err := rawRoundTrip(t, addr, method+" "+tt.target+" HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: probe\r\nConnection: close\r\n\r\n")
			if err != nil {
				t.Fatal(err)
			}
			body := resp.body
			if resp.status != tt.status {
				t.Fatalf("status = %d, want %d; body %q", resp.status, tt.status, body)
			}
			if tt.contentType != "" && resp.header.Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", resp.header.Get("Content-Type"), tt.contentType)
			}
			if tt.body != "" && string(body) != tt.body {
				t.Errorf("body = %q, want %q", body, tt.body)
			}
			if tt.noBody && body != "" {
				t.Errorf("body = %q, want none", body)
			}
			if tt.then != "" && !strings.Contains(resp.raw, "\r\n\r\n"+tt.then) {
				t.Errorf("no final response %q after the informational one: %q", tt.then, resp.raw)
			}
			if tt.location != "" && resp.header.Get("Location") != tt.location {
				t.Errorf("Location = %q, want %q", resp.header.Get("Location"), tt.location)
			}
			if tt.contentType == jsonType && resp.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", resp.header.Get("X-Content-Type-Options"))
			}
			if tt.echoPath == "" {
				return
			}
			e := decodeEcho(t, []byte(body))
			if e.Path != tt.echoPath || e.Host != host || e.Method != method || e.Proto != "HTTP/1.1" ||
				e.HTTPPort != "3000" || e.Namespace != "gateway-conformance-infra" || e.Ingress != "ing" ||
				e.Service != "infra-backend-v1" || e.Pod != "infra-backend-v1-abc" || e.TLS != nil {
				t.Errorf("echo = %+v", e)
			}
			if got := e.Headers["User-Agent"]; len(got) != 1 || got[0] != "probe" {
				t.Errorf("echoed User-Agent = %q", got)
			}
			if strings.Contains(tt.target, "delay=30ms") && time.Since(began) < 30*time.Millisecond {
				t.Errorf("answered after %v, before the 30ms delay", time.Since(began))
			}
		})
	}
}

// TestExactEcho pins the echo byte for byte: one-space indentation, field
// order, sorted header names, no trailing newline, no "tls" on plain HTTP.
func TestExactEcho(t *testing.T) {
	env := baseEnv()
	env["HTTP_PORT"] = "08080" // echoed as written
	c := start(t, env, nil)
	resp, err := rawRoundTrip(t, c.addr(t, 8080), "GET /p//q?a=<b> HTTP/1.1\r\nHost: echo.example\r\nX-B: 2\r\nx-a: 1\r\nX-B: 3\r\nConnection: close\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
 "path": "/p//q?a=\u003cb\u003e",
 "host": "echo.example",
 "method": "GET",
 "proto": "HTTP/1.1",
 "headers": {
  "Connection": [
   "close"
  ],
  "X-A": [
   "1"
  ],
  "X-B": [
   "2",
   "3"
  ]
 },
 "httpPort": "08080",
 "namespace": "gateway-conformance-infra",
 "ingress": "ing",
 "service": "infra-backend-v1",
 "pod": "infra-backend-v1-abc"
}`
	if resp.status != 200 || resp.body != want {
		t.Errorf("status %d, body:\n%s\nwant:\n%s", resp.status, resp.body, want)
	}
	for _, l := range []string{"Content-Type: application/json", "X-Content-Type-Options: nosniff"} {
		if !resp.hasLine(l) {
			t.Errorf("no header line %q in %q", l, resp.lines)
		}
	}
}

func TestEchoSetHeader(t *testing.T) {
	c := start(t, baseEnv(), nil)
	addr := c.addr(t, 3000)
	tests := []struct {
		name string
		// directives are the X-Echo-Set-Header lines sent, as is.
		directives []string
		target     string
		status     int
		wantLines  []string
		// absent are header names that must not be in the response.
		absent []string
	}{
		{name: "one", directives: []string{"X-Foo: bar"}, status: 200, wantLines: []string{"X-Foo: bar"}},
		{name: "several in one value", directives: []string{"X-Foo:bar,X-Baz: qux"}, status: 200, wantLines: []string{"X-Foo: bar", "X-Baz: qux"}},
		{name: "name case kept", directives: []string{"x-lower-case:v, X-MiXeD:w"}, status: 200, wantLines: []string{"x-lower-case: v", "X-MiXeD: w"}},
		{name: "repeated name joined in one line", directives: []string{"X-Foo: a, X-Foo:  b ", "X-Foo:c"}, status: 200, wantLines: []string{"X-Foo: a,b,c"}},
		{name: "empty directive sets nothing", directives: []string{""}, status: 200},
		{name: "item without value", directives: []string{"X-Empty"}, status: 200, wantLines: []string{"X-Empty: "}},
		{name: "cannot change content type", directives: []string{"Content-Type: text/plain"}, status: 200, wantLines: []string{"Content-Type: application/json"}},
		{name: "not applied to errors", directives: []string{"X-Foo: bar"}, target: "/?delay=x", status: 500, absent: []string{"X-Foo"}},
		{name: "not applied by health", directives: []string{"X-Foo: bar"}, target: "/health", status: 200, absent: []string{"X-Foo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := tt.target
			if target == "" {
				target = "/"
			}
			var req strings.Builder
			req.WriteString("GET " + target + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n")
			for _, d := range tt.directives {
				req.WriteString("X-Echo-Set-Header: " + d + "\r\n")
			}
			req.WriteString("\r\n")
			resp, err := rawRoundTrip(t, addr, req.String())
			if err != nil {
				t.Fatal(err)
			}
			if resp.status != tt.status {
				t.Fatalf("status = %d, want %d", resp.status, tt.status)
			}
			for _, l := range tt.wantLines {
				if !resp.hasLine(l) {
					t.Errorf("no header line %q in %q", l, resp.lines)
				}
			}
			for _, name := range tt.absent {
				for _, l := range resp.lines {
					if strings.HasPrefix(strings.ToLower(l), strings.ToLower(name)+":") {
						t.Errorf("unexpected header line %q", l)
					}
				}
			}
			// Only the expected lines, Content-Type, X-Content-Type-Options,
			// Date, Content-Length and Connection.
			if tt.status == 200 && tt.target == "" {
				want := len(tt.wantLines) + 5
				for _, l := range tt.wantLines {
					if strings.HasPrefix(l, "Content-Type:") {
						want--
					}
				}
				if len(resp.lines) != want {
					t.Errorf("header lines %q, want %d", resp.lines, want)
				}
			}
		})
	}
}

// A status code below 100 makes net/http abort the response, as in the
// image: the client gets no answer.
func TestStatusBelow100Aborts(t *testing.T) {
	c := start(t, baseEnv(), nil)
	if resp, err := rawRoundTrip(t, c.addr(t, 3000), "GET /status/000 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"); err == nil {
		t.Errorf("got status %d, want the connection dropped", resp.status)
	}
}

func TestLog(t *testing.T) {
	c := start(t, baseEnv(), nil)
	req, _ := http.NewRequest(http.MethodGet, "http://"+c.addr(t, 3000)+"/mirror?gateway-api-conformance-request-id=7", nil)
	do(t, noRedirects, req)
	log := c.log.String()
	for _, want := range []string{
		"Starting server, listening on port 3000 (http)\n",
		"Starting server, listening on port 3001 (h2c)\n",
		"Echoing back request made to /mirror?gateway-api-conformance-request-id=7 to client (127.0.0.1:",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log has no %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "(https)") {
		t.Errorf("https started without TLS files:\n%s", log)
	}
}
