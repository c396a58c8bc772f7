package translate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Facts from Gateway API's HTTPRouteSpec.Hostnames and Listener docs
// (sigs.k8s.io/gateway-api v1.6.3 apis/v1).
func TestEffectiveHostnames(t *testing.T) {
	for _, tc := range []struct {
		name     string
		listener string
		route    []gwv1.Hostname
		want     []string
	}{
		{"both open", "", nil, []string{""}},
		{"listener open", "", []gwv1.Hostname{"b.example.com", "a.example.com"}, []string{"a.example.com", "b.example.com"}},
		{"route open", "test.example.com", nil, []string{"test.example.com"}},
		// "A Listener with test.example.com matches HTTPRoutes that have ...
		// specified at least one of test.example.com or *.example.com."
		{"exact listener, wildcard route", "test.example.com", []gwv1.Hostname{"*.example.com"}, []string{"test.example.com"}},
		// "*.example.com, test.example.com, and foo.test.example.com would
		// all match. ... example.com and test.example.net would not."
		{"wildcard listener", "*.example.com",
			[]gwv1.Hostname{"*.example.com", "test.example.com", "foo.test.example.com", "example.com", "test.example.net"},
			[]string{"*.example.com", "foo.test.example.com", "test.example.com"}},
		{"narrower wildcard route", "*.example.com", []gwv1.Hostname{"*.foo.example.com"}, []string{"*.foo.example.com"}},
		{"narrower wildcard listener", "*.foo.example.com", []gwv1.Hostname{"*.example.com"}, []string{"*.foo.example.com"}},
		{"no intersection", "www.example.com", []gwv1.Hostname{"api.example.com"}, nil},
		{"duplicates once", "*.example.com", []gwv1.Hostname{"a.example.com", "a.example.com"}, []string{"a.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, effectiveHostnames(tc.listener, tc.route)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// "foo.example.com takes precedence over *.example.com, and *.example.com
// takes precedence over ”" and "*.foo.example.com takes precedence over
// *.example.com" (Gateway API Listener docs).
func TestMostSpecificListener(t *testing.T) {
	listeners := []*listenerModel{
		{name: "any", hostname: ""},
		{name: "wild", hostname: "*.example.com"},
		{name: "wild-foo", hostname: "*.foo.example.com"},
		{name: "exact", hostname: "foo.example.com"},
	}
	for host, want := range map[string]string{
		"foo.example.com":     "exact",
		"bar.example.com":     "wild",
		"a.foo.example.com":   "wild-foo",
		"a.b.foo.example.com": "wild-foo",
		"example.com":         "any",
		"*.example.com":       "wild",
		"":                    "any",
		"www.example.org":     "any",
	} {
		if got := mostSpecificListener(listeners, host); got.name != want {
			t.Errorf("%q: got listener %s, want %s", host, got.name, want)
		}
	}
	if got := mostSpecificListener(listeners[1:], "www.example.org"); got != nil {
		t.Errorf("no listener covers www.example.org, got %s", got.name)
	}
}
