package harness

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mccutchen/go-httpbin/v2/httpbin"
)

// TestCompare runs each case through a real go-httpbin, or a handler
// answering like the gateway's local replies, on loopback.
func TestCompare(t *testing.T) {
	bin := httpbin.New()
	local := func(status int, body string, header ...string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			w.WriteHeader(status)
			w.Write([]byte(body))
		})
	}
	tests := []struct {
		name    string
		handler http.Handler
		req     Request
		want    Response
		diffs   []string // substrings, one per expected difference; none = match
	}{
		{"401 local reply matches", local(401, UnauthorizedBody), Get("/anything"), Unauthorized, nil},
		{"500 direct response matches", local(500, InvalidRouteBody), Get("/anything"), InvalidRoute, nil},
		{"backend reached instead of 401", bin, Get("/anything"), Unauthorized,
			[]string{"status 200, want 401", "the backend was reached", "body", "content-type"}},
		{"401 with another body", local(401, "no API Key found"), Get("/anything"), Unauthorized,
			[]string{`body "no API Key found"`}},
		{"401 with a challenge", local(401, UnauthorizedBody, "WWW-Authenticate", "Bearer"), Get("/anything"), Unauthorized,
			[]string{"www-authenticate"}},
		{"401 as html", local(401, UnauthorizedBody, "Content-Type", "text/html"), Get("/anything"), Unauthorized,
			[]string{`content-type "text/html"`}},
		{"200 not from the backend", local(200, "ok"), Get("/anything"), Reached(Backend{}),
			[]string{"did not reach the backend"}},
		{"backend received what is expected", bin,
			Get("/anything?foo=bar&baz=1").WithHeader("x-client-id", "client1").WithCookie("session=s1; theme=dark"),
			Reached(Backend{}.Header("X-Client-Id", "client1").Without("api-key").Arg("foo", "bar").WithoutArgs("api_key").
				Cookie("session", "s1").WithoutCookies("auth_token")), nil},
		{"backend received a header it should not have", bin,
			Get("/anything").WithHeader("api-key", "secret-value-12345"),
			Reached(Backend{}.Without("API-KEY")), []string{"received header API-KEY"}},
		{"repeated header compared whole", bin,
			Get("/anything").WithHeader("x-client-id", "admin").WithHeader("x-client-id", "client1"),
			Reached(Backend{}.Header("x-client-id", "client1")), []string{`header x-client-id=["admin" "client1"]`}},
		{"query parameter missing and one unwanted", bin, Get("/anything?api_key=k"),
			Reached(Backend{}.Arg("foo", "bar").WithoutArgs("api_key")),
			[]string{"did not receive query parameter foo", "received query parameter api_key"}},
		{"cookie kept and one unwanted", bin, Get("/anything").WithCookie("auth_token=k; session=s2"),
			Reached(Backend{}.Cookie("session", "s1").WithoutCookies("auth_token")),
			[]string{`cookie auth_token`, `cookie session=["s2"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			req := tt.req.withDefaults()
			got, err := newSender(true, 0).send(context.Background(), strings.TrimPrefix(srv.URL, "http://"), req)
			if err != nil {
				t.Fatal(err)
			}
			diffs := compare(tt.want, req, got)
			if len(diffs) != len(tt.diffs) {
				t.Fatalf("diffs = %q, want %d matching %q", diffs, len(tt.diffs), tt.diffs)
			}
			for _, want := range tt.diffs {
				found := false
				for _, d := range diffs {
					found = found || strings.Contains(d, want)
				}
				if !found {
					t.Errorf("no diff mentions %q: %q", want, diffs)
				}
			}
		})
	}
}

func TestCompareChecksTheHostTheBackendSaw(t *testing.T) {
	srv := httptest.NewServer(httpbin.New())
	defer srv.Close()
	sent := Get("/anything").withDefaults()
	got, err := newSender(true, 0).send(context.Background(), strings.TrimPrefix(srv.URL, "http://"), sent)
	if err != nil {
		t.Fatal(err)
	}
	other := sent.WithHost("other.example.com")
	if diffs := compare(Reached(Backend{}), other, got); len(diffs) != 1 || !strings.Contains(diffs[0], "Host") {
		t.Errorf("diffs = %q, want one about the Host", diffs)
	}
}

func TestResponseValidate(t *testing.T) {
	tests := []struct {
		resp Response
		ok   bool
	}{
		{Unauthorized, true},
		{InvalidRoute, true},
		{Reached(Backend{}), true},
		{Response{Status: 200}, false}, // says nothing about the backend
		{Response{Status: 401}, false}, // no body: backend-not-reached unproven
		{Response{Status: 401, Body: "x", Backend: &Backend{}}, false}, // local reply with backend
		{Response{Status: 200, Body: "x", Backend: &Backend{}}, false},
		{Response{Status: 42, Body: "x"}, false},
	}
	for _, tt := range tests {
		if err := tt.resp.validate(); (err == nil) != tt.ok {
			t.Errorf("validate(%+v) = %v, want ok=%v", tt.resp, err, tt.ok)
		}
	}
}
