package apikeyauth

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The ref* functions are a second, deliberately plain reading of Envoy's
// parsers (source/common/http/utility.cc), written apart from the package's
// so the fuzzers compare two implementations rather than one with itself.

func refDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// refParams: split on "&", where a trailing "&" adds no parameter.
func refParams(raw string) [][2]string {
	segs := strings.Split(raw, "&")
	segs = segs[:len(segs)-1+boolInt(segs[len(segs)-1] != "")]
	var out [][2]string
	for _, s := range segs {
		name, value, _ := strings.Cut(s, "=")
		out = append(out, [2]string{refDecode(name), refDecode(value)})
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func refFirstQuery(raw, name string) string {
	for _, p := range refParams(raw) {
		if p[0] == name {
			return p[1]
		}
	}
	return ""
}

func refQueryWithout(raw, name string) string {
	var kept [][2]string
	for _, p := range refParams(raw) {
		if p[0] != name {
			kept = append(kept, p)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i][0] < kept[j][0] })
	parts := make([]string, len(kept))
	for i, p := range kept {
		parts[i] = p[0] + "=" + p[1]
	}
	return strings.Join(parts, "&")
}

var refCookiePiece = regexp.MustCompile(`(?s)^ *([^=]*)=(.*)$`)

func refCookies(values []string) [][2]string {
	var out [][2]string
	for _, v := range values {
		for _, piece := range strings.Split(v, ";") {
			m := refCookiePiece.FindStringSubmatch(piece)
			if m == nil {
				continue
			}
			val := m[2]
			if len(val) > 1 && strings.HasPrefix(val, `"`) && strings.HasSuffix(val, `"`) {
				val = val[1 : len(val)-1]
			}
			out = append(out, [2]string{m[1], val})
		}
	}
	return out
}

func refCookie(values []string, name string) string {
	for _, c := range refCookies(values) {
		if c[0] == name {
			return c[1]
		}
	}
	return ""
}

func cookieNames(values []string) []string {
	var names []string
	for _, c := range refCookies(values) {
		names = append(names, c[0])
	}
	return names
}

// FuzzKeyExtraction compares the query and cookie parsers, the query
// rewrite and the cookie removal with the reference readings.
func FuzzKeyExtraction(f *testing.F) {
	f.Fuzz(func(t *testing.T, name, rawQuery, cookie, header string) {
		if got, want := firstQueryValue(rawQuery, name), refFirstQuery(rawQuery, name); got != want {
			t.Errorf("firstQueryValue(%q, %q) = %q, reference %q", rawQuery, name, got, want)
		}
		if got, want := queryWithout(rawQuery, name), refQueryWithout(rawQuery, name); got != want {
			t.Errorf("queryWithout(%q, %q) = %q, reference %q", rawQuery, name, got, want)
		}
		values := []string{cookie, header}
		if got, want := cookieValue(values, name), refCookie(values, name); got != want {
			t.Errorf("cookieValue(%q, %q) = %q, reference %q", values, name, got, want)
		}
		got, want := http.Header{"Cookie": slices.Clone(values)}, http.Header{"Cookie": slices.Clone(values)}
		removeCookie(got, name)
		refRemoveCookie(want, name)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("removeCookie(%q, %q) = %q, reference %q", values, name, got, want)
		}
		if slices.Contains(cookieNames(got["Cookie"]), name) {
			t.Errorf("removeCookie(%q, %q) kept the cookie", values, name)
		}
		wantKey, _ := strings.CutPrefix(header, "Bearer ")
		if got := headerKey([]string{header, cookie}, false); got != wantKey {
			t.Errorf("headerKey(%q) = %q, want %q", header, got, wantKey)
		}
	})
}

// fuzzSources are the key sources FuzzCheck picks from, bit i for source i.
var fuzzSources = []string{
	`{"header":"Authorization"}`, `{"header":"X-Api-Key"}`, `{"query":"api_key"}`,
	`{"cookie":"api_key"}`, `{"query":"token"}`, `{"cookie":"sid"}`,
}

var fuzzCredentials = map[string]string{"key1": "user1", "k&2": "user2", "a b": "user3", "k=3": "user4"}

// fatalf fails a FuzzCheck run with the fuzz keys redacted from the message.
func fatalf(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Fatal(redact(slices.Collect(maps.Keys(fuzzCredentials)), fmt.Sprintf(format, args...)))
}

// fuzzConfig builds the config selected by bits: bits 0-5 pick sources,
// bit 6 hides credentials, bit 7 forwards the client id in X-Client-Id.
func fuzzConfig(t testing.TB, bits uint8) *Config {
	var srcs []string
	for i, s := range fuzzSources {
		if bits&(1<<i) != 0 {
			srcs = append(srcs, s)
		}
	}
	var creds []string
	for k, c := range fuzzCredentials {
		creds = append(creds, fmt.Sprintf(`{"key":%q,"client":%q}`, k, c))
	}
	header := ""
	if bits&0x80 != 0 {
		header = "x-client-id"
	}
	cfg, _ := compileCase(t, fmt.Sprintf(`{"credentials":[%s],"key_sources":[%s],"forwarding":{"header":%q,"hide_credentials":%t}}`,
		strings.Join(creds, ","), strings.Join(srcs, ","), header, bits&0x40 != 0), "")
	return cfg
}

// refDecision is what Check must decide, computed with the reference
// readings.
func refDecision(cfg *Config, req *http.Request) Decision {
	if len(cfg.sources) == 0 {
		return missingSources
	}
	key := ""
	for _, s := range cfg.sources {
		switch s.kind {
		case headerSource:
			if v := req.Header[s.name]; len(v) > 0 {
				key = v[0]
				if s.name == "Authorization" {
					key = strings.Join(slices.DeleteFunc(slices.Clone(v), func(x string) bool { return x == "" }), ",")
				}
				key = strings.TrimPrefix(key, "Bearer ")
			}
		case querySource:
			key = refFirstQuery(req.URL.RawQuery, s.name)
		case cookieSource:
			key = refCookie(req.Header["Cookie"], s.name)
		}
		if key != "" {
			break
		}
	}
	client, ok := fuzzCredentials[key]
	switch {
	case key == "":
		return missingAPIKey
	case !ok:
		return unknownAPIKey
	}
	return allowed(client)
}

// FuzzCheck runs Check on arbitrary requests under every combination of
// sources and forwarding options, and checks: no panic; the decision matches
// the reference; a denial changes nothing; on success the client id header
// holds exactly the client, and with hide_credentials every configured
// source is gone while the other parameters, cookies and headers remain.
func FuzzCheck(f *testing.F) {
	configs := make([]*Config, 256)
	for bits := range configs {
		configs[bits] = fuzzConfig(f, uint8(bits))
	}
	f.Fuzz(func(t *testing.T, rawQuery, headers, cookie string, bits uint8) {
		cfg := configs[bits]
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/p", RawQuery: rawQuery}, RequestURI: "/p", Header: http.Header{}}
		if rawQuery != "" {
			req.RequestURI += "?" + rawQuery
		}
		for line := range strings.SplitSeq(headers, "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok {
				req.Header.Add(name, value)
			}
		}
		if cookie != "" {
			req.Header.Add("Cookie", cookie)
		}
		before := snap(req)

		got := Check(cfg, req)

		if want := refDecision(cfg, req0(before)); got != want {
			fatalf(t, "decision %+v, reference %+v", got, want)
		}
		if !got.Allowed {
			if !reflect.DeepEqual(before, snap(req)) {
				fatalf(t, "a denied request was modified")
			}
			return
		}
		checkForwarded(t, cfg, before, req, got.Client)
	})
}

// req0 rebuilds the request as it was before Check, for the reference.
func req0(s snapshot) *http.Request {
	u := *s.url
	return &http.Request{URL: &u, Header: s.header.Clone()}
}

func checkForwarded(t *testing.T, cfg *Config, before snapshot, req *http.Request, client string) {
	t.Helper()
	wantHeader := before.header.Clone()
	wantQuery := before.url.RawQuery
	if cfg.forwarding.header != "" {
		wantHeader[cfg.forwarding.header] = []string{client}
	}
	if cfg.forwarding.hide {
		for _, s := range cfg.sources {
			switch s.kind {
			case headerSource:
				delete(wantHeader, s.name)
			case querySource:
				if wantQuery != "" {
					wantQuery = refQueryWithout(wantQuery, s.name)
				}
			case cookieSource:
				refRemoveCookie(wantHeader, s.name)
			}
		}
		checkHidden(t, cfg, before, req)
	}
	if !reflect.DeepEqual(req.Header, wantHeader) {
		fatalf(t, "headers after forwarding = %q, reference %q", req.Header, wantHeader)
	}
	if req.URL.RawQuery != wantQuery || req.URL.ForceQuery {
		fatalf(t, "query after forwarding = %q (force %t), reference %q", req.URL.RawQuery, req.URL.ForceQuery, wantQuery)
	}
	wantURI := "/p"
	if wantQuery != "" {
		wantURI += "?" + wantQuery
	}
	if req.RequestURI != wantURI {
		fatalf(t, "request-target = %q, want %q", req.RequestURI, wantURI)
	}
}

// checkHidden: no configured source still holds anything. A query value that
// decodes to text holding "&" or "=" is written back unescaped and may form a
// parameter of the source's name again, as in Envoy; the check skips those.
func checkHidden(t *testing.T, cfg *Config, before snapshot, req *http.Request) {
	t.Helper()
	resplits := false
	for _, p := range refParams(before.url.RawQuery) {
		resplits = resplits || strings.ContainsAny(p[0]+p[1], "&=")
	}
	for _, s := range cfg.sources {
		switch s.kind {
		case headerSource:
			if _, ok := req.Header[s.name]; ok {
				fatalf(t, "header %s still present after hiding", s.name)
			}
		case querySource:
			if !resplits && slices.ContainsFunc(refParams(req.URL.RawQuery), func(p [2]string) bool { return p[0] == s.name }) {
				fatalf(t, "query parameter %q still present after hiding", s.name)
			}
		case cookieSource:
			if slices.Contains(cookieNames(req.Header["Cookie"]), s.name) {
				fatalf(t, "cookie %q still present after hiding", s.name)
			}
		}
	}
}

// refRemoveCookie rebuilds one Cookie header from the other cookies.
func refRemoveCookie(h http.Header, name string) {
	if len(h["Cookie"]) == 0 {
		return
	}
	var parts []string
	for _, c := range refCookies(h["Cookie"]) {
		if c[0] != name {
			parts = append(parts, c[0]+"="+c[1])
		}
	}
	delete(h, "Cookie")
	if len(parts) > 0 {
		h["Cookie"] = []string{strings.Join(parts, "; ")}
	}
}
