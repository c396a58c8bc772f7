package apikeyauth

import (
	"maps"
	"slices"
	"strings"
)

// The functions here reproduce Envoy's Http::Utility::QueryParamsMulti
// (parseAndDecodeQueryString, replaceQueryString, toString) and
// PercentEncoding::decode on the raw query string (the part of :path after
// the first '?').

// nextParam returns the raw name and value of the parameter starting at
// start, and where the next one starts. Parameters are split on '&' only; one
// without '=' has an empty value; empty segments are parameters named "",
// except one after a trailing '&' (the caller stops when next >= len).
func nextParam(rawQuery string, start int) (name, value string, next int) {
	end := strings.IndexByte(rawQuery[start:], '&')
	if end < 0 {
		end = len(rawQuery)
	} else {
		end += start
	}
	name, value, _ = strings.Cut(rawQuery[start:end], "=")
	return name, value, end + 1
}

// firstQueryValue returns the decoded first value of the parameter whose
// decoded name is exactly name, "" when absent.
func firstQueryValue(rawQuery, name string) string {
	for i := 0; i < len(rawQuery); {
		var n, v string
		n, v, i = nextParam(rawQuery, i)
		if percentDecode(n) == name {
			return percentDecode(v)
		}
	}
	return ""
}

// queryWithout returns the query string Envoy writes back after removing a
// parameter: the remaining parameters grouped by decoded name in byte order
// (QueryParamsMulti is an absl::btree_map), values in their original order,
// all written decoded and unescaped.
func queryWithout(rawQuery, name string) string {
	params := map[string][]string{}
	for i := 0; i < len(rawQuery); {
		var n, v string
		n, v, i = nextParam(rawQuery, i)
		if n = percentDecode(n); n != name {
			params[n] = append(params[n], percentDecode(v))
		}
	}
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(params)) {
		for _, v := range params[n] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(n)
			b.WriteByte('=')
			b.WriteString(v)
		}
	}
	return b.String()
}

// percentDecode decodes each "%XY" with two hex digits into one byte and
// leaves everything else, including '+' and malformed escapes, as it is.
func percentDecode(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			if hi, ok := unhex(s[i+1]); ok {
				if lo, ok := unhex(s[i+2]); ok {
					c = hi<<4 | lo
					i += 2
				}
			}
		}
		b = append(b, c)
	}
	return string(b)
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
