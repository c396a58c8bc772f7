package harness

import (
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/keyconform/keyconform/suites/scenario"
)

// observed is one response as the suite saw it.
type observed struct {
	Status int
	Header http.Header
	Body   []byte
	// Echo is the body parsed as go-httpbin's echo of the request, nil when
	// the body is not one (a local reply of the gateway).
	Echo *echo
	// Elapsed is from sending the request to the end of the body.
	Elapsed time.Duration
}

// echo is the part of go-httpbin's /anything answer the suite reads.
type echo struct {
	Args    map[string][]string `json:"args"`
	Headers map[string][]string `json:"headers"`
	Method  string              `json:"method"`
	URL     string              `json:"url"`
}

// parseEcho returns the go-httpbin echo in body, or nil.
func parseEcho(body []byte) *echo {
	var e echo
	if err := json.Unmarshal(body, &e); err != nil || e.Headers == nil {
		return nil
	}
	return &e
}

// header returns every value the backend received for name, any case.
func (e *echo) header(name string) ([]string, bool) {
	for k, v := range e.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// cookies parses every Cookie header the backend received.
func (e *echo) cookies() map[string][]string {
	out := map[string][]string{}
	values, _ := e.header("Cookie")
	for _, line := range values {
		for _, part := range strings.Split(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, value, _ := strings.Cut(part, "=")
			out[name] = append(out[name], value)
		}
	}
	return out
}

// compare lists how got differs from want (rendered, real values); empty
// means it matches. request is the rendered request, for the Host check.
func compare(want scenario.Response, request scenario.Request, got observed) []string {
	var diffs []string
	if got.Status != want.Status {
		diffs = append(diffs, fmt.Sprintf("status %d, want %d", got.Status, want.Status))
	}
	diffs = append(diffs, compareHeaders(want.Headers, got.Header)...)
	if want.Within > 0 && got.Elapsed > want.Within {
		diffs = append(diffs, fmt.Sprintf("answered after %v, later than %v: the request waited for something (the backend?)",
			got.Elapsed.Round(time.Millisecond), want.Within))
	}
	if want.Backend == nil {
		return append(diffs, compareLocalReply(want, got)...)
	}
	if got.Echo == nil {
		return append(diffs, "the response is not go-httpbin's echo: the request did not reach the backend")
	}
	return append(diffs, compareBackend(*want.Backend, request, got.Echo)...)
}

// compareHeaders checks the response headers want names, in name order.
func compareHeaders(want map[string][]string, got http.Header) []string {
	var diffs []string
	for _, name := range slices.Sorted(maps.Keys(want)) {
		values := got.Values(name)
		if !slices.Equal(values, want[name]) {
			diffs = append(diffs, fmt.Sprintf("response header %s=%q, want %q", name, values, want[name]))
		}
	}
	return diffs
}

func compareLocalReply(want scenario.Response, got observed) []string {
	var diffs []string
	if got.Echo != nil {
		diffs = append(diffs, "the backend was reached (the body is go-httpbin's echo of the request)")
	}
	if want.AnyBody {
		return diffs
	}
	if string(got.Body) != want.Body {
		diffs = append(diffs, fmt.Sprintf("body %q, want %q", truncate(string(got.Body), 300), want.Body))
	}
	ct := got.Header.Get("Content-Type")
	switch {
	case want.HasHeader("Content-Type"): // compared with the other Headers
	case want.NoBody:
		if v := got.Header.Values("Content-Type"); len(v) > 0 {
			diffs = append(diffs, fmt.Sprintf("content-type %q, want none (a local reply without a body has none)", v))
		}
	case !isTextPlain(ct):
		diffs = append(diffs, fmt.Sprintf("content-type %q, want text/plain", ct))
	}
	if want.Status == http.StatusUnauthorized {
		if v := got.Header.Values("WWW-Authenticate"); len(v) > 0 {
			diffs = append(diffs, fmt.Sprintf("www-authenticate %q, want none", v))
		}
	}
	return diffs
}

func isTextPlain(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "text/plain"
}

func compareBackend(want scenario.Backend, request scenario.Request, e *echo) []string {
	var diffs []string
	if host, _ := e.header("Host"); !slices.Equal(host, []string{request.Host}) {
		diffs = append(diffs, fmt.Sprintf("backend saw Host %q, want [%q]", host, request.Host))
	}
	for name, values := range want.Headers {
		got, ok := e.header(name)
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("backend did not receive header %s, want %q", name, values))
		case !slices.Equal(got, values):
			diffs = append(diffs, fmt.Sprintf("backend received header %s=%q, want %q", name, got, values))
		}
	}
	for _, name := range want.NoHeaders {
		if got, ok := e.header(name); ok {
			diffs = append(diffs, fmt.Sprintf("backend received header %s=%q, want it absent", name, got))
		}
	}
	for name, values := range want.Query {
		got, ok := e.Args[name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("backend did not receive query parameter %s, want %q (url %s)", name, values, e.URL))
		case !slices.Equal(got, values):
			diffs = append(diffs, fmt.Sprintf("backend received query parameter %s=%q, want %q (url %s)", name, got, values, e.URL))
		}
	}
	for _, name := range want.NoQuery {
		if got, ok := e.Args[name]; ok {
			diffs = append(diffs, fmt.Sprintf("backend received query parameter %s=%q, want it absent (url %s)", name, got, e.URL))
		}
	}
	cookies := e.cookies()
	for name, value := range want.Cookies {
		got, ok := cookies[name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("backend did not receive cookie %s, want %q", name, value))
		case !slices.Equal(got, []string{value}):
			diffs = append(diffs, fmt.Sprintf("backend received cookie %s=%q, want [%q]", name, got, value))
		}
	}
	for _, name := range want.NoCookies {
		if got, ok := cookies[name]; ok {
			diffs = append(diffs, fmt.Sprintf("backend received cookie %s=%q, want it absent", name, got))
		}
	}
	slices.Sort(diffs)
	return diffs
}

// describeObserved summarises a response for a failure message.
func describeObserved(got observed) string {
	if got.Echo != nil {
		headers, _ := json.Marshal(got.Echo.Headers)
		return fmt.Sprintf("%d from the backend (go-httpbin echo): url %s, headers %s", got.Status, got.Echo.URL, headers)
	}
	return fmt.Sprintf("%d %q, content-type %q, body %q", got.Status, http.StatusText(got.Status),
		got.Header.Get("Content-Type"), truncate(string(got.Body), 300))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
