package localenv

import (
	"strings"
	"testing"
)

func TestListenerAddressesRoundTrip(t *testing.T) {
	in := map[uint32]string{8443: "127.0.0.1:2", 80: "127.0.0.1:1", 8080: "[::1]:3"}
	s := FormatListenerAddresses(in)
	if s != "80=127.0.0.1:1,8080=[::1]:3,8443=127.0.0.1:2" {
		t.Fatalf("formatted %q", s)
	}
	out, err := ParseListenerAddresses(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("parsed %v, want %v", out, in)
	}
	for p, a := range in {
		if out[p] != a {
			t.Errorf("port %d: %q, want %q", p, out[p], a)
		}
	}
	if got, err := ParseListenerAddresses(""); err != nil || len(got) != 0 {
		t.Errorf("empty annotation: %v, %v", got, err)
	}
	for _, bad := range []string{"8080", "x=127.0.0.1:1", "8080=", "8080=a,,"} {
		if _, err := ParseListenerAddresses(bad); err == nil || !strings.Contains(err.Error(), ListenerAddressesAnnotation) {
			t.Errorf("ParseListenerAddresses(%q) = %v, want an error naming the annotation", bad, err)
		}
	}
}
