package scenario

import (
	"fmt"
	"net/http"
	"strings"
)

// Defaults of a Request: the Gateway, listener and route every scenario's
// base manifests create (fixtures/scenarios/base).
const (
	DefaultGateway = "gw"
	DefaultPort    = 8180
	DefaultHost    = `{{host "www"}}`
	DefaultPath    = "/anything"
)

// Request is one HTTP request to a Gateway listener. Path, Host and header
// values are templates (see Renderer), so they may hold {{key "name"}}.
type Request struct {
	Gateway string // a Gateway in the scenario's namespace; default DefaultGateway
	Port    uint32 // a listener port of that Gateway; default DefaultPort
	Method  string // default GET
	Host    string // default DefaultHost
	Path    string // path and query; default DefaultPath (go-httpbin echoes it)
	// Target, when set, is written on the request line byte for byte in
	// place of Path: the only way to send a request-target Go's client
	// would change, such as one with a #fragment (a URL's fragment never
	// leaves the client). Origin-form: it starts with a single '/'.
	Target string
	// Headers are sent in this order, names exactly as written, so a
	// repeated or oddly cased header is possible.
	Headers []Header
}

// Header is one request header line.
type Header struct {
	Name, Value string
}

// Get is a GET request for path on the default Gateway, listener and host.
func Get(path string) Request {
	return Request{Path: path}
}

// WithHeader returns a copy of r with one more header line.
func (r Request) WithHeader(name, value string) Request {
	r.Headers = append(append([]Header(nil), r.Headers...), Header{Name: name, Value: value})
	return r
}

// WithCookie returns a copy of r with a Cookie header line holding cookies
// exactly as given (e.g. "a=1; b=2").
func (r Request) WithCookie(cookies string) Request {
	return r.WithHeader("Cookie", cookies)
}

// WithTarget returns a copy of r whose request line carries target as is
// (see Request.Target).
func (r Request) WithTarget(target string) Request {
	r.Target = target
	return r
}

// WithHost returns a copy of r for another Host header.
func (r Request) WithHost(host string) Request {
	r.Host = host
	return r
}

// On returns a copy of r sent to another Gateway or listener port.
func (r Request) On(gateway string, port uint32) Request {
	r.Gateway, r.Port = gateway, port
	return r
}

// WithDefaults returns r with every field left empty set to its default:
// the request as it is sent.
func (r Request) WithDefaults() Request {
	if r.Gateway == "" {
		r.Gateway = DefaultGateway
	}
	if r.Port == 0 {
		r.Port = DefaultPort
	}
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	if r.Host == "" {
		r.Host = DefaultHost
	}
	if r.Path == "" {
		r.Path = DefaultPath
	}
	return r
}

// Render expands the templates of r with real values, defaults filled in.
func (r Request) Render(rn *Renderer) (Request, error) {
	r = r.WithDefaults()
	var err error
	field := func(name, text string) string {
		if err != nil {
			return ""
		}
		var out string
		out, err = rn.Render(name, text)
		return out
	}
	out := r
	out.Host = field("request host", r.Host)
	out.Path = field("request path", r.Path)
	out.Target = field("request target", r.Target)
	if err == nil && out.Target != "" && (!strings.HasPrefix(out.Target, "/") || strings.HasPrefix(out.Target, "//") ||
		strings.ContainsFunc(out.Target, func(c rune) bool { return c <= ' ' || c == 0x7f })) {
		err = fmt.Errorf("request target %q must be origin-form: a single leading '/', no space or control character", rn.Describe(r.Target))
	}
	out.Headers = make([]Header, len(r.Headers))
	for i, h := range r.Headers {
		out.Headers[i] = Header{Name: h.Name, Value: field("header "+h.Name, h.Value)}
	}
	return out, err
}

// Describe shows r with placeholders for keys, as failure messages do.
func (r Request) Describe(rn *Renderer) string {
	r = r.WithDefaults()
	var b strings.Builder
	target := rn.Describe(r.Path)
	if r.Target != "" {
		target = rn.Describe(r.Target) + " (request-target as is)"
	}
	fmt.Fprintf(&b, "%s %s (Host: %s) on Gateway %s port %d", r.Method, target, rn.Describe(r.Host), r.Gateway, r.Port)
	for _, h := range r.Headers {
		fmt.Fprintf(&b, "\n    %s: %s", h.Name, rn.Describe(h.Value))
	}
	return b.String()
}
