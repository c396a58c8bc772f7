package harness

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mccutchen/go-httpbin/v2/httpbin"

	"github.com/keyconform/keyconform/suites/scenario"
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
	// bodiless answers without a body or content-type, with these headers.
	bodiless := func(status int, header ...string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			w.WriteHeader(status)
		})
	}
	grpcReply := scenario.Response{Status: 200, NoBody: true, Headers: map[string][]string{
		"content-type": {"application/grpc"}, "grpc-status": {"16"}, "grpc-message": {scenario.UnauthorizedBody}, "www-authenticate": {}}}
	grpcHeaders := []string{"Content-Type", "application/grpc", "Grpc-Status", "16", "Grpc-Message", scenario.UnauthorizedBody}
	emptyReply := scenario.Response{Status: 400, NoBody: true}
	tests := []struct {
		name    string
		handler http.Handler
		req     scenario.Request
		want    scenario.Response
		diffs   []string // substrings, one per expected difference; none = match
	}{
		{"401 local reply matches", local(401, scenario.UnauthorizedBody), scenario.Get("/anything"), scenario.Unauthorized, nil},
		{"500 direct response matches", local(500, scenario.InvalidRouteBody), scenario.Get("/anything"), scenario.InvalidRoute, nil},
		{"backend reached instead of 401", bin, scenario.Get("/anything"), scenario.Unauthorized,
			[]string{"status 200, want 401", "the backend was reached", "body", "content-type"}},
		{"401 with another body", local(401, "no API Key found"), scenario.Get("/anything"), scenario.Unauthorized,
			[]string{`body "no API Key found"`}},
		{"401 with a challenge", local(401, scenario.UnauthorizedBody, "WWW-Authenticate", "Bearer"), scenario.Get("/anything"), scenario.Unauthorized,
			[]string{"www-authenticate"}},
		{"401 as html", local(401, scenario.UnauthorizedBody, "Content-Type", "text/html"), scenario.Get("/anything"), scenario.Unauthorized,
			[]string{`content-type "text/html"`}},
		{"200 not from the backend", local(200, "ok"), scenario.Get("/anything"), scenario.Reached(scenario.Backend{}),
			[]string{"did not reach the backend"}},
		{"gRPC local reply matches", bodiless(200, grpcHeaders...), scenario.Get("/anything"), grpcReply, nil},
		{"plain 401 instead of gRPC's reply", local(401, scenario.UnauthorizedBody), scenario.Get("/anything"), grpcReply,
			[]string{"status 401, want 200", "body", "content-type=[\"text/plain\"]", "grpc-status=[]", "grpc-message=[]"}},
		{"gRPC reply with another status and a challenge",
			bodiless(200, "Content-Type", "application/grpc", "Grpc-Status", "7", "Grpc-Message", scenario.UnauthorizedBody, "WWW-Authenticate", "Bearer"),
			scenario.Get("/anything"), grpcReply, []string{"grpc-status=[\"7\"]", "www-authenticate"}},
		{"backend reached instead of gRPC's reply", bin, scenario.Get("/anything"), grpcReply,
			[]string{"content-type", "grpc-status", "grpc-message", "the backend was reached", "body"}},
		{"response header from the backend", bin, scenario.Get("/anything"),
			scenario.Response{Status: 200, Headers: map[string][]string{"Content-Type": {"application/json; charset=utf-8"}}, Backend: &scenario.Backend{}}, nil},
		{"empty local reply matches", bodiless(400), scenario.Get("/anything"), emptyReply, nil},
		{"empty local reply with a content-type", local(400, ""), scenario.Get("/anything"), emptyReply,
			[]string{"want none"}},
		{"a body where none is expected", local(400, "Bad Request"), scenario.Get("/anything"), emptyReply,
			[]string{`body "Bad Request", want ""`, "want none"}},
		{"backend received what is expected", bin,
			scenario.Get("/anything?foo=bar&baz=1").WithHeader("x-client-id", "client1").WithCookie("session=s1; theme=dark"),
			scenario.Reached(scenario.Backend{}.Header("X-Client-Id", "client1").Without("api-key").Arg("foo", "bar").WithoutArgs("api_key").
				Cookie("session", "s1").WithoutCookies("auth_token")), nil},
		{"backend received a header it should not have", bin,
			scenario.Get("/anything").WithHeader("api-key", "secret-value-12345"),
			scenario.Reached(scenario.Backend{}.Without("API-KEY")), []string{"received header API-KEY"}},
		{"repeated header compared whole", bin,
			scenario.Get("/anything").WithHeader("x-client-id", "admin").WithHeader("x-client-id", "client1"),
			scenario.Reached(scenario.Backend{}.Header("x-client-id", "client1")), []string{`header x-client-id=["admin" "client1"]`}},
		{"query parameter missing and one unwanted", bin, scenario.Get("/anything?api_key=k"),
			scenario.Reached(scenario.Backend{}.Arg("foo", "bar").WithoutArgs("api_key")),
			[]string{"did not receive query parameter foo", "received query parameter api_key"}},
		{"cookie kept and one unwanted", bin, scenario.Get("/anything").WithCookie("auth_token=k; session=s2"),
			scenario.Reached(scenario.Backend{}.Cookie("session", "s1").WithoutCookies("auth_token")),
			[]string{`cookie auth_token`, `cookie session=["s2"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			// A rendered request: the default Host is a template.
			req := tt.req.WithHost("www.example.com").WithDefaults()
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
	sent := scenario.Get("/anything").WithHost("www.example.com").WithDefaults()
	got, err := newSender(true, 0).send(context.Background(), strings.TrimPrefix(srv.URL, "http://"), sent)
	if err != nil {
		t.Fatal(err)
	}
	other := sent.WithHost("other.example.com")
	if diffs := compare(scenario.Reached(scenario.Backend{}), other, got); len(diffs) != 1 || !strings.Contains(diffs[0], "Host") {
		t.Errorf("diffs = %q, want one about the Host", diffs)
	}
}

// TestSenderWritesTheTargetAsIs: a URL's #fragment never leaves Go's
// client, so only Request.Target puts one on the wire.
func TestSenderWritesTheTargetAsIs(t *testing.T) {
	seen := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.RequestURI
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, tt := range []struct {
		req  scenario.Request
		want string
	}{
		{scenario.Get("/anything#frag"), "/anything"},
		{scenario.Get("/x").WithTarget("/anything#frag"), "/anything#frag"},
		{scenario.Get("/x").WithTarget("/a%2Fb?q=1#f"), "/a%2Fb?q=1#f"},
	} {
		if _, err := newSender(true, 0).send(context.Background(), addr, tt.req.WithDefaults()); err != nil {
			t.Fatal(err)
		}
		if got := <-seen; got != tt.want {
			t.Errorf("%+v: the server saw request-target %q, want %q", tt.req, got, tt.want)
		}
	}
}
