package dataplane_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/keyconform/keyconform/internal/xdstest"
	"github.com/keyconform/keyconform/sim/apikeyauth"
)

// rawResponse is what came back for a request written byte for byte.
type rawResponse struct {
	status int
	header http.Header
	body   string
	echoed echo
	closed bool // "connection: close", and the proxy closed the connection
}

// raw sends "GET target" with the given header lines exactly as written, so
// that neither the path nor the header names are cleaned up by a client.
func (e *env) raw(t *testing.T, target string, headerLines ...string) rawResponse {
	t.Helper()
	addr, ok := e.proxy.ListenerAddr(port)
	if !ok {
		t.Fatal("listener is not bound")
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + target + " HTTP/1.1\r\nHost: www.example.com\r\n"
	for _, l := range headerLines {
		req += l + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	out := rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if resp.StatusCode == 200 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(b, &out.echoed)
	}
	if resp.Close { // ReadResponse takes "connection: close" out of the header
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = br.ReadByte()
		out.closed = errors.Is(err, io.EOF)
	}
	return out
}

// pathResources is one listener with the given connection manager settings
// and routes: /private answered directly, /anything/keyed behind an API key
// read from the query (and hidden from the upstream), the rest to httpbin.
func pathResources(t *testing.T, mutate func(*hcmv3.HttpConnectionManager)) []types.Resource {
	keyed := xdstest.PrefixRoute("keyed", "/anything/keyed", clusterName)
	keyed.TypedPerFilterConfig = map[string]*anypb.Any{
		apikeyauth.FilterName: xdstest.APIKeyAuth(t, map[string]string{"client1": "k-123"}, true, "", "query:key"),
	}
	res := standard(t, xdstest.VirtualHost(port, "www.example.com",
		direct("private", prefix("/private")),
		keyed,
		xdstest.PrefixRoute("httpbin", "/", clusterName),
	))
	if mutate != nil {
		res[0] = xdstest.Listener(t, port, mutate)
	}
	return res
}

// Envoy Gateway's listener settings: normalize_path, merge_slashes,
// UNESCAPE_AND_REDIRECT and headers_with_underscores_action REJECT_REQUEST.
func TestPathNormalizationEnvoyGatewaySettings(t *testing.T) {
	e := newEnv(t)
	e.start(t, pathResources(t, func(h *hcmv3.HttpConnectionManager) {
		h.NormalizePath = wrapperspb.Bool(true)
		h.MergeSlashes = true
		h.PathWithEscapedSlashesAction = hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT
		h.CommonHttpProtocolOptions = &corev3.HttpProtocolOptions{HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_REJECT_REQUEST}
	})...)

	// Normalized before routing; the upstream gets the normalized path and
	// the query as sent.
	got := e.raw(t, "/anything/a/./b/../%63//d%7e?x=%2F&y=/../")
	if got.status != 200 || got.echoed.URL != "http://www.example.com/anything/a/c/d~?x=%2F&y=/../" {
		t.Errorf("normalized request -> %d, backend URL %q", got.status, got.echoed.URL)
	}
	if got := e.raw(t, "/anything/%2e%2E/private/x"); got.status != 200 || got.body != "private" {
		t.Errorf("route on the normalized path -> %d %q, want the /private route", got.status, got.body)
	}
	// The api_key_auth filter sees the normalized path and the query.
	got = e.raw(t, "/anything/x/..//keyed/.?key=k-123&z=1")
	if got.status != 200 || got.echoed.URL != "http://www.example.com/anything/keyed/?z=1" {
		t.Errorf("keyed request -> %d, backend URL %q", got.status, got.echoed.URL)
	}
	if got := e.raw(t, "/anything/x/../keyed?key=nope"); got.status != 401 {
		t.Errorf("wrong key after normalization -> %d, want 401", got.status)
	}

	// An escaped slash: 307 to the fully normalized path, connection kept.
	got = e.raw(t, "/anything/a%2F..//b%5c%2e/c?q=%2F")
	if got.status != 307 || got.header.Get("Location") != "/anything/b/c?q=%2F" || got.body != "" || got.closed {
		t.Errorf("escaped slash -> %d Location %q body %q closed %v, want 307 to /anything/b/c?q=%%2F", got.status, got.header.Get("Location"), got.body, got.closed)
	}
	if got.header.Get("Server") != "envoy" || got.header.Get("Content-Length") != "0" {
		t.Errorf("redirect headers %v", got.header)
	}
	// gRPC clients cannot follow a redirect: 400, sent as gRPC's local
	// reply (200, grpc-status 13 INTERNAL), and the connection closed as
	// for any 400 (ActiveStream::onLocalReply sees the HTTP code).
	if got := e.raw(t, "/anything/a%2fb", "Content-Type: application/grpc"); got.status != 200 || got.header.Get("Grpc-Status") != "13" || !got.closed {
		t.Errorf("gRPC escaped slash -> %d grpc-status %q closed %v, want 200, grpc-status 13 and the connection closed", got.status, got.header.Get("Grpc-Status"), got.closed)
	}

	// Rejections: 400, connection: close, the connection closed.
	for _, target := range []string{"/anything/a%00b", "/anything/a#b", "/anything?a#b"} {
		got := e.raw(t, target)
		if got.status != 400 || got.body != "" || !got.closed {
			t.Errorf("%s -> %d %q %v closed %v, want 400 (path_normalization_failed) closing the connection", target, got.status, got.body, got.header, got.closed)
		}
	}
	got = e.raw(t, "/anything", "X_Forwarded_Host: evil", "X-Ok: 1")
	if got.status != 400 || got.body != "Bad Request" || got.header.Get("Content-Type") != "text/plain" || !got.closed {
		t.Errorf("header with an underscore -> %d %q %v closed %v, want the codec's 400 Bad Request", got.status, got.body, got.header, got.closed)
	}
	for name, want := range map[string]uint64{
		"http.http.downstream_rq_failed_path_normalization":       4,
		"http.http.downstream_rq_redirected_with_normalized_path": 1,
		"http1.requests_rejected_with_underscores_in_headers":     1,
	} {
		if v := statValue(e.proxy, name); v != want {
			t.Errorf("%s = %d, want %d", name, v, want)
		}
	}
}

// UNESCAPE_AND_FORWARD without normalize_path, and DROP_HEADER.
func TestEscapedSlashesForwardedAndUnderscoresDropped(t *testing.T) {
	e := newEnv(t)
	e.start(t, pathResources(t, func(h *hcmv3.HttpConnectionManager) {
		h.PathWithEscapedSlashesAction = hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD
		h.CommonHttpProtocolOptions = &corev3.HttpProtocolOptions{HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_DROP_HEADER}
	})...)
	got := e.raw(t, "/anything/a%2Fb%2f%2e%2E?q=%2F", "x_dropped: 1", "Also_Dropped: 2", "x-kept: 3")
	if got.status != 200 || got.echoed.URL != "http://www.example.com/anything/a/b/%2e%2E?q=%2F" {
		t.Errorf("-> %d, backend URL %q, want the slashes unescaped and nothing else", got.status, got.echoed.URL)
	}
	for _, name := range []string{"X_dropped", "Also_dropped"} {
		if _, ok := got.echoed.Headers[name]; ok {
			t.Errorf("backend received %s; DROP_HEADER drops it", name)
		}
	}
	if got.echoed.header("X-Kept") != "3" {
		t.Errorf("backend headers %v", got.echoed.Headers)
	}
	// %5C becomes a raw '\', which goes upstream as is (the backend's
	// url.URL prints it escaped again).
	if got := e.raw(t, "/anything/a%5cb"); got.status != 200 || got.echoed.URL != "http://www.example.com/anything/a%5Cb" {
		t.Errorf("escaped backslash -> %d, backend URL %q", got.status, got.echoed.URL)
	}
	if v := statValue(e.proxy, "http1.dropped_headers_with_underscores"); v != 2 {
		t.Errorf("http1.dropped_headers_with_underscores = %d, want 2", v)
	}
}

// Without the fields Envoy leaves the path and header names alone, except
// that a fragment is always rejected (http_reject_path_with_fragment).
func TestPathUntouchedByDefault(t *testing.T) {
	e := newEnv(t)
	e.start(t, pathResources(t, nil)...)
	got := e.raw(t, "/anything/a%2Fb/%2e/c%7e?q=1", "x_allowed: 1")
	if got.status != 200 || got.echoed.URL != "http://www.example.com/anything/a%2Fb/%2e/c%7e?q=1" {
		t.Errorf("-> %d, backend URL %q, want the path as sent", got.status, got.echoed.URL)
	}
	if got.echoed.header("X_allowed") != "1" {
		t.Errorf("backend headers %v, want x_allowed (ALLOW)", got.echoed.Headers)
	}
	if got := e.raw(t, "/private/../anything"); got.status != 200 || got.body != "private" {
		t.Errorf("un-normalized path -> %d %q, want the /private route", got.status, got.body)
	}
	if got := e.raw(t, "/anything#frag"); got.status != 400 || !got.closed {
		t.Errorf("fragment -> %d closed %v, want 400", got.status, got.closed)
	}
}

// The fields Envoy Gateway sets for some ClientTrafficPolicy settings are
// NACKed by name and the previous listener keeps serving.
func TestUnimplementedProtocolOptionsNACKed(t *testing.T) {
	e := newEnv(t)
	e.start(t, pathResources(t, nil)...)
	e.xds.Set(t, nodeID, "2", pathResources(t, func(h *hcmv3.HttpConnectionManager) {
		h.CommonHttpProtocolOptions = &corev3.HttpProtocolOptions{
			IdleTimeout:                  durationpb.New(10 * time.Second),
			HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_REJECT_REQUEST,
		}
	})...)
	nack := e.xds.WaitNACK(t, resource.ListenerType)
	if msg := nack.GetErrorDetail().GetMessage(); !strings.Contains(msg, "common_http_protocol_options.idle_timeout") {
		t.Errorf("NACK %q does not name the field", msg)
	}
	if got := e.raw(t, "/anything", "x_allowed: 1"); got.status != 200 {
		t.Errorf("previous listener -> %d", got.status)
	}
}
