package translate

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Gateway API PathPrefix matches whole path elements and ignores a
// trailing slash; Envoy's path_separated_prefix does the same for a value
// without a trailing slash ("Expect the value to not contain ? or # and not
// to end in /"), and "/" needs the plain prefix.
func TestCompileMatchPath(t *testing.T) {
	prefix := func(v string) *gwv1.HTTPPathMatch {
		return &gwv1.HTTPPathMatch{Type: new(gwv1.PathMatchPathPrefix), Value: new(v)}
	}
	for _, tc := range []struct {
		name    string
		path    *gwv1.HTTPPathMatch
		want    *routev3.RouteMatch
		wantErr bool
	}{
		{"no path is prefix /", nil, &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}, false},
		{"root", prefix("/"), &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}, false},
		{"element prefix", prefix("/api"), &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/api"}}, false},
		{"trailing slash ignored", prefix("/api/"), &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/api"}}, false},
		{"exact", &gwv1.HTTPPathMatch{Type: new(gwv1.PathMatchExact), Value: new("/a/b/")}, &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/a/b/"}}, false},
		{"bad regex", &gwv1.HTTPPathMatch{Type: new(gwv1.PathMatchRegularExpression), Value: new("(")}, nil, true},
		{"prefix with ?", prefix("/a?b"), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := compileMatch(0, &gwv1.HTTPRouteMatch{Path: tc.path})
			if tc.wantErr {
				if err == nil {
					t.Fatalf("want an error, got %v", got.match)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.match, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Header names are case-insensitive and only the first of equivalent names
// counts; query parameter names are case-sensitive (Gateway API
// HTTPHeaderMatch / HTTPQueryParamMatch).
func TestCompileMatchRepeatedNames(t *testing.T) {
	m, err := compileMatch(0, &gwv1.HTTPRouteMatch{
		Headers: []gwv1.HTTPHeaderMatch{
			{Name: "X-Env", Value: "first"},
			{Name: "x-env", Value: "second"},
		},
		QueryParams: []gwv1.HTTPQueryParamMatch{
			{Name: "q", Value: "1"},
			{Name: "Q", Value: "2"},
			{Name: "q", Value: "3"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.headers != 1 || m.match.GetHeaders()[0].GetName() != "x-env" ||
		m.match.GetHeaders()[0].GetStringMatch().GetExact() != "first" {
		t.Errorf("headers: %v", m.match.GetHeaders())
	}
	if m.queries != 2 {
		t.Errorf("query params: %v", m.match.GetQueryParameters())
	}
}
