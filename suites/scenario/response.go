package scenario

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The local replies of Envoy's api_key_auth filter and of kgateway's
// replaced routes, byte for byte.
const (
	UnauthorizedBody = "Client authentication failed."
	InvalidRouteBody = "invalid route configuration detected and replaced with a direct response."
)

// Response is what a Request must get. A 2xx must come from the backend and
// say what the backend received (Backend); anything else is a local reply of
// the gateway: exact Body, text/plain, and proof the backend was not
// reached (the body is not the backend's echo).
type Response struct {
	Status int
	Body   string
	// NoBody says a local reply has no body at all (Envoy's 400 for a
	// rejected path, gRPC's trailers-only reply); Body stays empty. Such a
	// reply has no content-type unless Headers names one.
	NoBody bool
	// AnyBody says a 5xx local reply's body and content type are the
	// implementation's own: only the status and that the backend was not
	// reached are checked (how an implementation fails closed).
	AnyBody bool
	// Headers are response headers the client must get, each with exactly
	// these values (names in any case); an empty list means the header is
	// absent. A Content-Type here replaces a local reply's text/plain check,
	// and a 2xx local reply (gRPC's trailers-only form) states in Headers
	// what tells it from the backend's answer.
	Headers map[string][]string
	Backend *Backend
	// Within bounds how long after the request the reply may come: a
	// local reply that arrives before a slow backend could have answered
	// proves the backend was not asked first (zero: no bound).
	Within time.Duration
}

// Before returns r that must also arrive within d.
func (r Response) Before(d time.Duration) Response {
	r.Within = d
	return r
}

// Unauthorized is the api_key_auth filter's 401.
var Unauthorized = Response{Status: http.StatusUnauthorized, Body: UnauthorizedBody}

// InvalidRoute is kgateway's 500 direct response replacing a route whose
// policy is invalid.
var InvalidRoute = Response{Status: http.StatusInternalServerError, Body: InvalidRouteBody}

// FailedClosed is a 500 from the gateway itself, whatever its body: a
// route whose policy is broken, on any implementation.
var FailedClosed = Response{Status: http.StatusInternalServerError, AnyBody: true}

// Reached is a 200 from the backend, which received what b says.
func Reached(b Backend) Response {
	return Response{Status: http.StatusOK, Backend: &b}
}

// Backend is what go-httpbin echoed back as received. Header names are
// matched case-insensitively; values are templates and must match exactly
// and completely (all values of a repeated header, in order).
type Backend struct {
	Headers   map[string][]string
	NoHeaders []string
	Query     map[string][]string
	NoQuery   []string
	Cookies   map[string]string
	NoCookies []string
}

// Header returns a copy of b that also expects header name with values.
func (b Backend) Header(name string, values ...string) Backend {
	b.Headers = withEntry(b.Headers, name, values)
	return b
}

// Without returns a copy of b that also expects these headers to be absent.
func (b Backend) Without(names ...string) Backend {
	b.NoHeaders = append(slices.Clone(b.NoHeaders), names...)
	return b
}

// Arg returns a copy of b that also expects query parameter name with values.
func (b Backend) Arg(name string, values ...string) Backend {
	b.Query = withEntry(b.Query, name, values)
	return b
}

// WithoutArgs returns a copy of b that also expects these query parameters to be absent.
func (b Backend) WithoutArgs(names ...string) Backend {
	b.NoQuery = append(slices.Clone(b.NoQuery), names...)
	return b
}

// Cookie returns a copy of b that also expects cookie name with value.
func (b Backend) Cookie(name, value string) Backend {
	c := maps.Clone(b.Cookies)
	if c == nil {
		c = map[string]string{}
	}
	c[name] = value
	b.Cookies = c
	return b
}

// WithoutCookies returns a copy of b that also expects these cookies to be absent.
func (b Backend) WithoutCookies(names ...string) Backend {
	b.NoCookies = append(slices.Clone(b.NoCookies), names...)
	return b
}

func withEntry(m map[string][]string, name string, values []string) map[string][]string {
	out := maps.Clone(m)
	if out == nil {
		out = map[string][]string{}
	}
	out[name] = values
	return out
}

// Render expands the templates of b with real values.
func (b Backend) Render(rn *Renderer) (Backend, error) {
	var err error
	r := func(text string) string {
		if err != nil {
			return ""
		}
		var out string
		out, err = rn.Render("backend expectation", text)
		return out
	}
	rl := func(vs []string) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = r(v)
		}
		return out
	}
	out := Backend{NoHeaders: b.NoHeaders, NoQuery: b.NoQuery, NoCookies: b.NoCookies}
	if b.Headers != nil {
		out.Headers = map[string][]string{}
		for k, v := range b.Headers {
			out.Headers[k] = rl(v)
		}
	}
	if b.Query != nil {
		out.Query = map[string][]string{}
		for k, v := range b.Query {
			out.Query[k] = rl(v)
		}
	}
	if b.Cookies != nil {
		out.Cookies = map[string]string{}
		for k, v := range b.Cookies {
			out.Cookies[k] = r(v)
		}
	}
	return out, err
}

// Describe shows the expectation with placeholders for keys.
func (r Response) Describe(rn *Renderer) string {
	if r.Backend == nil {
		body := fmt.Sprintf("%q", r.Body)
		if r.NoBody {
			body = "without a body"
		}
		switch {
		case r.AnyBody:
			body = "with any body"
		case r.HasHeader("Content-Type"):
		case r.NoBody:
			body += " (no content-type)"
		default:
			body += " (text/plain)"
		}
		within := ""
		if r.Within > 0 {
			within = fmt.Sprintf(", within %v", r.Within)
		}
		return fmt.Sprintf("%d local reply %s%s, backend not reached%s", r.Status, body, r.describeHeaders(", headers "), within)
	}
	b := r.Backend
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(b.Headers)) {
		parts = append(parts, fmt.Sprintf("header %s=%s", k, describeList(rn, b.Headers[k])))
	}
	for _, k := range b.NoHeaders {
		parts = append(parts, "no header "+k)
	}
	for _, k := range slices.Sorted(maps.Keys(b.Query)) {
		parts = append(parts, fmt.Sprintf("query %s=%s", k, describeList(rn, b.Query[k])))
	}
	for _, k := range b.NoQuery {
		parts = append(parts, "no query parameter "+k)
	}
	for _, k := range slices.Sorted(maps.Keys(b.Cookies)) {
		parts = append(parts, fmt.Sprintf("cookie %s=%s", k, rn.Describe(b.Cookies[k])))
	}
	for _, k := range b.NoCookies {
		parts = append(parts, "no cookie "+k)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%d from the backend%s", r.Status, r.describeHeaders(", response headers "))
	}
	return fmt.Sprintf("%d from the backend, which received: %s%s", r.Status, strings.Join(parts, "; "), r.describeHeaders("; response headers "))
}

// HasHeader reports whether r.Headers names the header, any case.
func (r Response) HasHeader(name string) bool {
	for k := range r.Headers {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// describeHeaders lists r.Headers after prefix, or nothing without any.
func (r Response) describeHeaders(prefix string) string {
	if len(r.Headers) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.Headers)) {
		if len(r.Headers[k]) == 0 {
			parts = append(parts, "no "+k)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%q", k, r.Headers[k]))
	}
	return prefix + strings.Join(parts, " ")
}

func describeList(rn *Renderer, vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%q", rn.Describe(v))
	}
	return "[" + strings.Join(out, " ") + "]"
}
