package translate

import (
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestHeaderModifier(t *testing.T) {
	overwrite := corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
	appendTo := corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
	option := func(key, value string, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
		return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: key, Value: value}, AppendAction: action}
	}
	for _, tc := range []struct {
		name       string
		filter     *gwv1.HTTPHeaderFilter
		wantAdd    []*corev3.HeaderValueOption
		wantRemove []string
		wantErr    string // a part of the only problem, or "" for none
	}{
		{
			name: "set, add and remove, lower case",
			filter: &gwv1.HTTPHeaderFilter{
				Set:    []gwv1.HTTPHeader{{Name: "X-Set", Value: "s"}},
				Add:    []gwv1.HTTPHeader{{Name: "X-Add", Value: "a"}},
				Remove: []string{"X-Remove"},
			},
			wantAdd:    []*corev3.HeaderValueOption{option("x-set", "s", overwrite), option("x-add", "a", appendTo)},
			wantRemove: []string{"x-remove"},
		},
		{
			name: "the first of names equal but for case counts",
			filter: &gwv1.HTTPHeaderFilter{
				Set:    []gwv1.HTTPHeader{{Name: "X-A", Value: "first"}, {Name: "x-a", Value: "second"}},
				Add:    []gwv1.HTTPHeader{{Name: "x-a", Value: "added"}},
				Remove: []string{"X-R", "x-r"},
			},
			wantAdd:    []*corev3.HeaderValueOption{option("x-a", "first", overwrite), option("x-a", "added", appendTo)},
			wantRemove: []string{"x-r"},
		},
		{
			name:    "a literal percent sign",
			filter:  &gwv1.HTTPHeaderFilter{Add: []gwv1.HTTPHeader{{Name: "X-P", Value: "100% %REQ(host)%"}}},
			wantAdd: []*corev3.HeaderValueOption{option("x-p", "100%% %%REQ(host)%%", appendTo)},
		},
		{"host", &gwv1.HTTPHeaderFilter{Set: []gwv1.HTTPHeader{{Name: "HOST", Value: "h"}}}, nil, nil, "Host header"},
		{"removing host", &gwv1.HTTPHeaderFilter{Remove: []string{"Host"}}, nil, nil, "Host header"},
		{"a pseudo-header", &gwv1.HTTPHeaderFilter{Remove: []string{":path"}}, nil, nil, "not an HTTP header name"},
		{"an empty name", &gwv1.HTTPHeaderFilter{Remove: []string{""}}, nil, nil, "not an HTTP header name"},
		{"a line break in a value", &gwv1.HTTPHeaderFilter{Add: []gwv1.HTTPHeader{{Name: "X-A", Value: "a\r\nX-B: b"}}}, nil, nil, "control characters"},
		{"not set", nil, nil, nil, "not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			add, remove, problems := headerModifier(tc.filter)
			if diff := cmp.Diff(tc.wantAdd, add, protocmp.Transform()); diff != "" {
				t.Errorf("request_headers_to_add (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRemove, remove); diff != "" {
				t.Errorf("request_headers_to_remove (-want +got):\n%s", diff)
			}
			checkProblems(t, problems, tc.wantErr)
		})
	}
}

func TestCompileFilters(t *testing.T) {
	headers := gwv1.HTTPRouteFilter{
		Type:                  gwv1.HTTPRouteFilterRequestHeaderModifier,
		RequestHeaderModifier: &gwv1.HTTPHeaderFilter{Set: []gwv1.HTTPHeader{{Name: "X-A", Value: "a"}}},
	}
	redirect := gwv1.HTTPRouteFilter{
		Type:            gwv1.HTTPRouteFilterRequestRedirect,
		RequestRedirect: &gwv1.HTTPRequestRedirectFilter{Hostname: new(gwv1.PreciseHostname("example.org"))},
	}
	rewrite := gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterURLRewrite, URLRewrite: &gwv1.HTTPURLRewriteFilter{}}
	mirror := gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestMirror}
	for _, tc := range []struct {
		name    string
		rule    gwv1.HTTPRouteRule
		wantErr string // a part of the only problem, or "" for none
	}{
		{"header modifier and redirect", gwv1.HTTPRouteRule{Filters: []gwv1.HTTPRouteFilter{headers, redirect}}, ""},
		{"unsupported filters, named once each", gwv1.HTTPRouteRule{Filters: []gwv1.HTTPRouteFilter{rewrite, headers, mirror, rewrite}}, "filters (RequestMirror, URLRewrite) are not supported"},
		{"a repeated filter", gwv1.HTTPRouteRule{Filters: []gwv1.HTTPRouteFilter{headers, headers}}, "filters[1] (RequestHeaderModifier): the filter may be used once per rule"},
		{"a supported filter on a backendRef", gwv1.HTTPRouteRule{BackendRefs: []gwv1.HTTPBackendRef{{Filters: []gwv1.HTTPRouteFilter{headers}}}}, "backendRefs filters (RequestHeaderModifier) are not supported"},
		{"an invalid value", gwv1.HTTPRouteRule{Filters: []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{Remove: []string{"host"}}}}}, "filters[0] (RequestHeaderModifier): remove[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rf := compileFilters(&tc.rule)
			checkProblems(t, rf.problems, tc.wantErr)
			if tc.wantErr != "" && !strings.HasSuffix(rf.message(), "; the rule answers 500") {
				t.Errorf("message %q does not say the rule answers 500", rf.message())
			}
		})
	}
}

func checkProblems(t *testing.T, problems []string, want string) {
	t.Helper()
	switch {
	case want == "" && len(problems) > 0:
		t.Errorf("unexpected problems %q", problems)
	case want != "" && (len(problems) != 1 || !strings.Contains(problems[0], want)):
		t.Errorf("problems %q, want one saying %q", problems, want)
	}
}
