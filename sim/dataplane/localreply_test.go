package dataplane

import "testing"

// TestPercentEncode follows Envoy's PercentEncoding::encode
// (source/common/http/utility.cc), which grpc-message goes through: bytes
// below ' ', '~' and above, and '%' become %XX in upper case; everything
// else, spaces and punctuation included, is kept.
func TestPercentEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Client authentication failed.", "Client authentication failed."},
		{"Client is forbidden.", "Client is forbidden."},
		{"100% sure", "100%25 sure"},
		{"a~b", "a%7Eb"},
		{"}|{", "}|{"},
		{"tab\there", "tab%09here"},
		{"line\n", "line%0A"},
		{"caf\xc3\xa9", "caf%C3%A9"},
		{"\x7f", "%7F"},
	}
	for _, tt := range tests {
		if got := percentEncode(tt.in); got != tt.want {
			t.Errorf("percentEncode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
