package dataplane

import (
	"net/http"
	"net/http/httptest"
	"testing"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// Envoy's test/common/http/path_utility_test.cc, PathUtilityTest.
func TestCanonicalPath(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		// AlreadyNormalPaths.
		{"/xyz", "/xyz", true},
		{"/x/y/z", "/x/y/z", true},
		// InvalidPaths.
		{"/xyz/.%00../abc", "", false},
		{"/xyz/%00.%00./abc", "", false},
		{"/xyz/AAAAA%%0000/abc", "", false},
		// NormalizeValidPaths.
		{"/a/b/../c", "/a/c", true},
		{"/a/b/./c", "/a/b/c", true},
		{"a/b/../c", "/a/c", true},
		{"/a/b/../../../../c", "/c", true},
		{"/a/..\\c", "/c", true},
		{"/%c0%af", "/%c0%af", true},
		{"/%5c%25", "/%5c%25", true},
		{"/a/b/%2E%2E/c", "/a/c", true},
		{"/xyz/..;foo=bar/abc", "/abc", true},
		{"/..;foo=bar/abc", "/abc", true},
		{"/xyz/..;foo=bar", "/", true},
		{"/xyz/.;foo=bar/abc", "/xyz/abc", true},
		{"/.;foo=bar/abc", "/abc", true},
		{"/xyz/.;foo=bar", "/xyz/", true},
		{"/xyz/..;foo=bar/.;v1=2,v2=3/abc", "/abc", true},
		{"/..;foo=bar/abc/.;mmm", "/abc/", true},
		{"/.;aaa/..;foo=bar/abc/.;mmm", "/abc/", true},
		{"/xyz/..;foo=bar/.;fff=zzz", "/", true},
		{"/xyz/..;foo=bar/.;fff=zzz?blah=woops", "/?blah=woops", true},
		{"/xyz/..;foo=bar/.;fff=zzz/remain;blah-bluh?query", "/remain;blah-bluh?query", true},
		// NormalizeCasePath.
		{"/A/B/C", "/A/B/C", true},
		{"/a/b/%2e%2e/c", "/a/c", true},
		{"/a/%2F%2f/c", "/a/%2F%2f/c", true},
		// Chromium's canonicalization beyond Envoy's cases
		// (url/url_canon_path.cc): unreserved escapes are decoded, others
		// kept as written, bytes that need escaping escaped in upper case,
		// repeated slashes kept, the query never touched.
		{"/%41%7e%2d%5F", "/A~-_", true},
		{"/a%2fb%3Fc", "/a%2fb%3Fc", true},
		{"/a b\"<>^`{|}\x7f\xc3\xa9", "/a%20b%22%3C%3E%5E%60%7B%7C%7D%7F%C3%A9", true},
		{"/!$&'()*+,;=:@[]", "/!$&'()*+,;=:@[]", true},
		{"//a//b/", "//a//b/", true},
		{"/a/%2e/b/.%2E/c", "/a/c", true},
		{"/a.b/..c/%2ex", "/a.b/..c/.x", true},
		{"/..", "/", true},
		{"/a/.", "/a/", true},
		{"", "/", true},
		{"/a?x=/../%41#", "/a?x=/../%41#", true},
		{"/%%30%30", "/%2500", true}, // a nested escape is kept from decoding to %00
		{"/%zz/%", "/%zz/%", true},
		{"/a\x00", "", false},
	}
	for _, tt := range tests {
		got, ok := canonicalPath(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("canonicalPath(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// PathUtilityTest.MergeSlashes.
func TestMergeSlashes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a//b/c", "a/b/c"},
		{"/a//b/c/", "/a/b/c/"},
		{"a//b/c/", "a/b/c/"},
		{"/a", "/a"},
		{"//a/b/c", "/a/b/c"},
		{"/a//b/c", "/a/b/c"},
		{"/a/b/c//", "/a/b/c/"},
		{"/a///b/c", "/a/b/c"},
		{"/a////b/c", "/a/b/c"},
		{"/a//b?a=///c", "/a/b?a=///c"},
		{"/a//b?", "/a/b?"},
		{"//a/?b", "/a/?b"},
		{"//", "//"}, // as Envoy: nothing between the slashes to join
	}
	for _, tt := range tests {
		if got := mergeSlashes(tt.in); got != tt.want {
			t.Errorf("mergeSlashes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// PathUtilityTest.StripDotSegmentWithParameters.
func TestStripDotSegmentParameters(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"/xyz", "/xyz"},
		{"/xyz/..;foo=bar/abc", "/xyz/../abc"},
		{"/..;foo=bar/abc", "/../abc"},
		{"/xyz/..;foo=bar", "/xyz/.."},
		{"/xyz/..;", "/xyz/.."},
		{"/a/..;foo/b/..;bar/c", "/a/../b/../c"},
		{"/a/..;param1;param2/b", "/a/../b"},
		{"/xyz/..foo", "/xyz/..foo"},
		{"/xyz/...;foo", "/xyz/...;foo"},
		{"/xyz/remove/..;foo?param=/.;foo", "/xyz/remove/..?param=/.;foo"},
		{"/xyz/remove/..;foo#frag=/.;foo", "/xyz/remove/..#frag=/.;foo"},
		{"/xyz?param=/..;foo", "/xyz?param=/..;foo"},
		{"/xyz#frag=/..;foo", "/xyz#frag=/..;foo"},
		{"/xyz/.;foo=bar/abc", "/xyz/./abc"},
		{"/.;foo=bar/abc", "/./abc"},
		{"/xyz/.;foo=bar", "/xyz/."},
		{"/xyz/.;", "/xyz/."},
		{"/a/.;foo/b/.;bar/c", "/a/./b/./c"},
		{"/a/.;param1;param2/b", "/a/./b"},
		{"/xyz/.foo", "/xyz/.foo"},
		{"/xyz?param=/.;foo", "/xyz?param=/.;foo"},
		{"/xyz#frag=/.;foo", "/xyz#frag=/.;foo"},
	}
	for _, tt := range tests {
		if got := stripDotSegmentParameters(tt.in); got != tt.want {
			t.Errorf("stripDotSegmentParameters(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// PathUtilityTest.UnescapeSlashes.
func TestUnescapeSlashes(t *testing.T) {
	tests := []struct {
		in, want string
		found    bool
	}{
		{"", "", false},
		{"%2f%2F", "//", true},
		{"/a%2Fb%2fc/", "/a/b/c/", true},
		{"%2b", "%2b", false},
		{"/a/b/c", "/a/b/c", false},
		{"%2", "%2", false},
		{"%", "%", false},
		{"/abc%2", "/abc%2", false},
		{"foo%", "foo%", false},
		{"/a%2F", "/a/", true},
		{"%2fa/", "/a/", true},
		{"%%2fa/", "%/a/", true},
		{"%2%2fa/", "%2/a/", true},
		{"%5c%5C", "\\\\", true},
		{"/a%5Cb%5cc/", "/a\\b\\c/", true},
		{"/a%5C", "/a\\", true},
		{"%5ca/", "\\a/", true},
		{"/x/%2E%2e/z%2f%2Fabc%5C../def", "/x/%2E%2e/z//abc\\../def", true},
		{"%2fa%5Cb%2fc%5c", "/a\\b/c\\", true},
		{"%2fa%5Cb%2fc%5c?%2fabcd%5C%%2f%", "/a\\b/c\\?%2fabcd%5C%%2f%", true},
	}
	for _, tt := range tests {
		got, found := unescapeSlashes(tt.in)
		if got != tt.want || found != tt.found {
			t.Errorf("unescapeSlashes(%q) = %q, %v; want %q, %v", tt.in, got, found, tt.want, tt.found)
		}
	}
}

// ConnectionManagerUtility::maybeNormalizePath end to end, with the cases of
// Envoy's test/common/http/conn_manager_impl_test.cc and
// test/integration/header_integration_test.cc named in the comments.
func TestPathPolicy(t *testing.T) {
	const (
		keep     = hcmv3.HttpConnectionManager_KEEP_UNCHANGED
		reject   = hcmv3.HttpConnectionManager_REJECT_REQUEST
		redirect = hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT
		forward  = hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD
	)
	tests := []struct {
		name        string
		policy      pathPolicy
		in, want    string
		wantVerdict pathVerdict
	}{
		{"TestPathAndRouteWhenNormalizePathOff", pathPolicy{escapedSlashes: keep}, "/private/../public", "/private/../public", pathContinue},
		{"TestPathAndRouteOnNormalizedPath", pathPolicy{normalize: true, escapedSlashes: keep}, "/private/../public", "/public", pathContinue},
		{"FilterShouldUseSantizedPath", pathPolicy{normalize: true, escapedSlashes: keep}, "/x/%2E%2e/z", "/z", pathContinue},
		{"PathWithEscapedSlashesUnmodified", pathPolicy{normalize: true, escapedSlashes: keep}, "/private/..%2Fpublic%5c", "/private/..%2Fpublic%5c", pathContinue},
		{"PathWithEscapedSlashesAndNormalizationForwarded", pathPolicy{normalize: true, escapedSlashes: forward}, "/private/..%2Fpublic%5c%2e%2Fabc", "/public/abc", pathContinue},
		{"PathWithEscapedSlashesRejected", pathPolicy{escapedSlashes: reject}, "/abc%5c../", "/abc%5c../", pathReject},
		{"PathWithEscapedSlashesRejected (integration)", pathPolicy{escapedSlashes: reject}, "/private%2f../public", "/private%2f../public", pathReject},
		{"PathWithEscapedSlashesRedirected", pathPolicy{escapedSlashes: redirect}, "/abc%2f../", "/abc/../", pathRedirect},
		{"PathWithEscapedSlashesRedirected (integration)", pathPolicy{escapedSlashes: redirect}, "/private%2f../%2e%5Cpublic", "/private/../%2e\\public", pathRedirect},
		{"EscapedSlashesRedirectedAfterOtherNormalizations", pathPolicy{normalize: true, mergeSlashes: true, escapedSlashes: redirect}, "/abc%2f../%5cdef//", "/def/", pathRedirect},
		{"AllNormalizationsWithEscapedSlashesForwarded", pathPolicy{normalize: true, mergeSlashes: true, escapedSlashes: forward}, "/x/%2E%2e/z%2f%2Fabc%5C../def", "/z/def", pathContinue},
		{"no escaped slash: no redirect", pathPolicy{normalize: true, mergeSlashes: true, escapedSlashes: redirect}, "/a//b/../c?q=%2F", "/a/c?q=%2F", pathContinue},
		{"escaped slash in the query only", pathPolicy{escapedSlashes: reject}, "/a?b=%2F", "/a?b=%2F", pathContinue},
		{"merge without normalize", pathPolicy{mergeSlashes: true, escapedSlashes: keep}, "//a//../b?x=//", "/a/../b?x=//", pathContinue},
		{"invalid after unescaping", pathPolicy{normalize: true, escapedSlashes: forward}, "/a%2f%00", "/a/%00", pathReject},
		// http_reject_path_with_fragment, whatever the policy.
		{"fragment", pathPolicy{escapedSlashes: keep}, "/a#b", "/a#b", pathReject},
		{"fragment in the query", pathPolicy{escapedSlashes: keep}, "/a?b#c", "/a?b#c", pathReject},
	}
	for _, tt := range tests {
		got, verdict := tt.policy.apply(tt.in)
		if verdict != tt.wantVerdict || (verdict != pathReject && got != tt.want) {
			t.Errorf("%s: apply(%q) = %q, %v; want %q, %v", tt.name, tt.in, got, verdict, tt.want, tt.wantVerdict)
		}
	}
}

func TestCompilePathPolicyDefaults(t *testing.T) {
	p, err := compilePathPolicy(&hcmv3.HttpConnectionManager{})
	if err != nil || p.normalize || p.mergeSlashes || p.escapedSlashes != hcmv3.HttpConnectionManager_KEEP_UNCHANGED {
		t.Fatalf("defaults %+v, %v; want no normalization, no merging, KEEP_UNCHANGED", p, err)
	}
	if _, err := compilePathPolicy(&hcmv3.HttpConnectionManager{PathWithEscapedSlashesAction: 9}); err == nil {
		t.Fatal("an unknown path_with_escaped_slashes_action was accepted")
	}
}

func TestRequestPathValue(t *testing.T) {
	tests := []struct {
		method, target, want string
		ok                   bool
	}{
		{"GET", "/a/../b?c", "/a/../b?c", true},
		{"GET", "http://h.example/a/../b?c", "/a/../b?c", true},
		{"GET", "http://h.example", "/", true},
		{"GET", "http://h.example?q", "/?q", true},
		{"OPTIONS", "*", "", false},
		{"CONNECT", "h.example:443", "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		r.RequestURI = tt.target
		got, ok := requestPathValue(r)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s %s: %q, %v; want %q, %v", tt.method, tt.target, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSetRequestPathAndUpstreamLine(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/a%2fb/..%5Cc?api-key=k&x=%2F", nil)
	setRequestPath(r, `/a/b/..\c?api-key=k&x=%2F`)
	if p, ok := requestPath(r); !ok || p != `/a/b/..\c` {
		t.Errorf("route path %q", p)
	}
	if r.URL.RawQuery != "api-key=k&x=%2F" {
		t.Errorf("query %q", r.URL.RawQuery)
	}
	r.URL.Scheme, r.URL.Host = "http", "10.0.0.1:80"
	pinUpstreamPath(r)
	if got := r.URL.RequestURI(); got != `/a/b/..\c?api-key=k&x=%2F` {
		t.Errorf("upstream request target %q", got)
	}
	// A canonical path is left to Go.
	r = httptest.NewRequest(http.MethodGet, "/a%2Fb?x", nil)
	r.URL.Scheme, r.URL.Host = "http", "10.0.0.1:80"
	pinUpstreamPath(r)
	if r.URL.Opaque != "" || r.URL.RequestURI() != "/a%2Fb?x" {
		t.Errorf("opaque %q, target %q", r.URL.Opaque, r.URL.RequestURI())
	}
}

func TestIsGRPC(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/grpc": true, "application/grpc+proto": true, "application/grpc-web": false,
		"application/grpc;charset=utf-8": false, "": false, "text/plain": false,
	} {
		hdr := http.Header{}
		if ct != "" {
			hdr.Set("Content-Type", ct)
		}
		if got := isGRPC(hdr); got != want {
			t.Errorf("isGRPC(%q) = %v", ct, got)
		}
	}
}
