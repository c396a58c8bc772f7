package dataplane

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// pathPolicy is what a connection manager does to :path before anything
// reads it: normalize_path, merge_slashes and path_with_escaped_slashes_action.
type pathPolicy struct {
	normalize      bool
	mergeSlashes   bool
	escapedSlashes hcmv3.HttpConnectionManager_PathWithEscapedSlashesAction // never IMPLEMENTATION_SPECIFIC_DEFAULT
}

// compilePathPolicy resolves the defaults as HttpConnectionManagerConfig's
// constructor does (source/extensions/filters/network/http_connection_manager/
// config.cc): normalize_path unset takes the runtime feature
// http_connection_manager.normalize_path, 0% unless Envoy is built with
// ENVOY_NORMALIZE_PATH_BY_DEFAULT, so false; IMPLEMENTATION_SPECIFIC_DEFAULT
// takes the runtime value http_connection_manager.path_with_escaped_slashes_action,
// 0 by default, which getPathWithEscapedSlashesActionRuntimeOverride maps to
// KEEP_UNCHANGED. The sim has no runtime, so it has Envoy's defaults.
func compilePathPolicy(h *hcmv3.HttpConnectionManager) (pathPolicy, error) {
	p := pathPolicy{
		normalize:      h.GetNormalizePath().GetValue(),
		mergeSlashes:   h.GetMergeSlashes(),
		escapedSlashes: h.GetPathWithEscapedSlashesAction(),
	}
	switch p.escapedSlashes {
	case hcmv3.HttpConnectionManager_IMPLEMENTATION_SPECIFIC_DEFAULT:
		p.escapedSlashes = hcmv3.HttpConnectionManager_KEEP_UNCHANGED
	case hcmv3.HttpConnectionManager_KEEP_UNCHANGED, hcmv3.HttpConnectionManager_REJECT_REQUEST,
		hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT, hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD:
	default:
		return p, fmt.Errorf("path_with_escaped_slashes_action %d is not a known action", p.escapedSlashes)
	}
	return p, nil
}

// pathVerdict is ConnectionManagerUtility::NormalizePathAction.
type pathVerdict int

const (
	pathContinue pathVerdict = iota
	pathReject
	pathRedirect
)

// apply is ConnectionManagerUtility::maybeNormalizePath
// (source/common/http/conn_manager_utility.cc) on a :path (path and query).
// Its order: a fragment rejects the request (docs/spec.md HCM-02; runtime guard
// envoy.reloadable_features.http_reject_path_with_fragment, on by default),
// then escaped slashes are handled, then the path is canonicalized, then
// slashes are merged; a redirect is decided by the escaped slashes but sent
// with the path all three steps produced.
func (p pathPolicy) apply(path string) (string, pathVerdict) {
	if strings.Contains(path, "#") {
		return path, pathReject
	}
	verdict := pathContinue
	if p.escapedSlashes != hcmv3.HttpConnectionManager_KEEP_UNCHANGED {
		if unescaped, found := unescapeSlashes(path); found {
			switch p.escapedSlashes {
			case hcmv3.HttpConnectionManager_REJECT_REQUEST:
				return path, pathReject
			case hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT:
				verdict = pathRedirect
			}
			path = unescaped
		}
	}
	if p.normalize {
		var ok bool
		if path, ok = canonicalPath(path); !ok {
			return path, pathReject
		}
	}
	if p.mergeSlashes {
		path = mergeSlashes(path)
	}
	return path, verdict
}

// cutQuery splits a :path at its first '?', which stays with the query.
func cutQuery(path string) (string, string) {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return path[:i], path[i:]
	}
	return path, ""
}

// unescapeSlashes is PathUtil::unescapeSlashes (source/common/http/
// path_utility.cc): %2F and %2f become '/', %5C and %5c '\' in the path
// part, left to right without overlapping; the query is untouched. Found
// says whether anything was unescaped.
func unescapeSlashes(path string) (string, bool) {
	p, query := cutQuery(path)
	if !strings.Contains(p, "%") {
		return path, false
	}
	var b strings.Builder
	found := false
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			switch p[i+1 : i+3] {
			case "2F", "2f":
				b.WriteByte('/')
				i += 2
				found = true
				continue
			case "5C", "5c":
				b.WriteByte('\\')
				i += 2
				found = true
				continue
			}
		}
		b.WriteByte(p[i])
	}
	if !found {
		return path, false
	}
	return b.String() + query, true
}

// canonicalPath is PathUtil::canonicalPath: path parameters are stripped
// from dot segments (runtime guard
// envoy.reloadable_features.strip_dotdot_segments_with_parameters, on by
// default), then the path part is canonicalized as Chromium's URL library
// does; the query is appended unchanged. False means Envoy rejects the
// request.
func canonicalPath(path string) (string, bool) {
	p, query := cutQuery(stripDotSegmentParameters(path))
	canonical, ok := canonicalizePath(p)
	if !ok {
		return path, false
	}
	return canonical + query, true
}

// stripDotSegmentParameters is PathUtil::stripParametersFromDotSegments: in
// the path part (up to '?' or '#'), a segment that starts with "..;" becomes
// ".." and one that starts with ".;" becomes ".", so that canonicalization
// sees them as dot segments.
func stripDotSegmentParameters(path string) string {
	end := strings.IndexAny(path, "?#")
	if end < 0 {
		end = len(path)
	}
	p, rest := path[:end], path[end:]
	if !strings.Contains(p, ".;") {
		return path
	}
	segments := strings.Split(p, "/")
	for i, s := range segments {
		switch {
		case strings.HasPrefix(s, "..;"):
			segments[i] = ".."
		case strings.HasPrefix(s, ".;"):
			segments[i] = "."
		}
	}
	return strings.Join(segments, "/") + rest
}

// mergeSlashes is PathUtil::mergeSlashes: in the path part, runs of '/'
// become one, keeping a leading and a trailing slash; the query is
// untouched. Like Envoy, a path of only slashes ("//") is left as "//".
func mergeSlashes(path string) string {
	p, query := cutQuery(path)
	if !strings.Contains(p, "//") {
		return path
	}
	var segments []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			segments = append(segments, s)
		}
	}
	var b strings.Builder
	if strings.HasPrefix(p, "/") {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(segments, "/"))
	if strings.HasSuffix(p, "/") {
		b.WriteByte('/')
	}
	return b.String() + query
}

// How canonicalization treats each byte of a path, after the table of
// Chromium's url/url_canon_path.cc (kPathCharLookup) as the googleurl
// library Envoy links has it: copied as is, escaped as %XX, unescaped when
// it arrives percent-encoded, or invalid (NUL: copied escaped, and the path
// is rejected). '.', '%' and '\' have their own handling.
const (
	pathPass byte = iota
	pathEscape
	pathUnescape
	pathInvalid
)

var pathByteClass = func() [256]byte {
	var t [256]byte
	for c := range 256 {
		switch {
		case c == 0:
			t[c] = pathInvalid
		case c < 0x20 || c >= 0x7f:
			t[c] = pathEscape
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
			t[c] = pathUnescape
		}
	}
	for _, c := range []byte(" \"#%<>?\\^`{|}") {
		t[c] = pathEscape
	}
	for _, c := range []byte("-_~") {
		t[c] = pathUnescape
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// decodePercent reads a valid %XX at s[i].
func decodePercent(s []byte, i int) (byte, bool) {
	if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
		return 0, false
	}
	return unhex(s[i+1])<<4 | unhex(s[i+2]), true
}

// dotLen is the length of a dot at s[i]: 1 for '.', 3 for "%2e" or "%2E".
func dotLen(s []byte, i int) int {
	switch {
	case s[i] == '.':
		return 1
	case s[i] == '%' && i+2 < len(s) && s[i+1] == '2' && (s[i+2] == 'e' || s[i+2] == 'E'):
		return 3
	}
	return 0
}

func isURLSlash(c byte) bool { return c == '/' || c == '\\' }

type dotKind int

const (
	notADirectory dotKind = iota
	currentDirectory
	parentDirectory
)

// classifyAfterDot looks at what follows a dot that starts a segment: the
// end or a slash make it ".", a second dot then the end or a slash "..";
// consumed is how much more input that takes (the slash, the second dot).
func classifyAfterDot(s []byte, afterDot int) (dotKind, int) {
	if afterDot == len(s) {
		return currentDirectory, 0
	}
	if isURLSlash(s[afterDot]) {
		return currentDirectory, 1
	}
	if n := dotLen(s, afterDot); n > 0 {
		after := afterDot + n
		if after == len(s) {
			return parentDirectory, n
		}
		if isURLSlash(s[after]) {
			return parentDirectory, n + 1
		}
	}
	return notADirectory, 0
}

// canonicalizePath is url::CanonicalizePath (Chromium's
// url/url_canon_path.cc, DoPath and DoPartialPath) for 8-bit input, which is
// what Envoy's PathUtil::canonicalPath calls on the path part:
//   - a path that does not start with a slash gets one; '\' is a slash;
//   - "." and ".." segments, also written %2e/%2E, are resolved, never above
//     the root; other dots are copied ('.' for %2e);
//   - percent-encoded alphanumerics, '-', '_' and '~' are decoded, every
//     other escape is kept as written (hex case included); an invalid '%' is
//     kept, and escaped as %25 when decoding would otherwise make it start a
//     valid escape ("%%30%30" becomes "%2500");
//   - bytes that need escaping (controls, space, "#<>?^`{|}, DEL, non-ASCII)
//     are escaped with upper-case hex;
//   - a NUL, raw or as %00, fails the canonicalization;
//   - repeated slashes are kept.
func canonicalizePath(path string) (string, bool) {
	if path == "" {
		return "/", true
	}
	in := []byte(path)
	out := make([]byte, 0, len(in)+8)
	if !isURLSlash(in[0]) {
		out = append(out, '/')
	}
	ok := true
	lastInvalidPercent := -1 // in out: a '%' that did not start a valid escape
	for i := 0; i < len(in); i++ {
		c := in[i]
		class := pathByteClass[c]
		if n := dotLen(in, i); n > 0 {
			if len(out) > 0 && out[len(out)-1] == '/' {
				kind, consumed := classifyAfterDot(in, i+n)
				switch kind {
				case notADirectory:
					out = append(out, '.')
					i += n - 1
				case currentDirectory:
					i += n + consumed - 1
				case parentDirectory:
					out = backUpToPreviousSlash(out)
					if lastInvalidPercent >= len(out) {
						lastInvalidPercent = -1
					}
					i += n + consumed - 1
				}
			} else {
				out = append(out, '.')
				i += n - 1
			}
			continue
		}
		switch {
		case c == '\\':
			out = append(out, '/')
		case c == '%':
			v, valid := decodePercent(in, i)
			if !valid {
				lastInvalidPercent = len(out)
				out = append(out, '%')
				continue
			}
			i += 2
			switch pathByteClass[v] {
			case pathUnescape:
				out = append(out, v)
				if lastInvalidPercent >= 0 && lastInvalidPercent+3 >= len(out) {
					out = escapeNestedPercent(in, i+1, lastInvalidPercent, out)
				}
			case pathInvalid:
				out = append(out, '%', in[i-1], in[i])
				ok = false
			default:
				out = append(out, '%', in[i-1], in[i])
			}
		case class == pathInvalid:
			out = append(out, '%', upperHex[c>>4], upperHex[c&0xf])
			ok = false
		case class == pathEscape:
			out = append(out, '%', upperHex[c>>4], upperHex[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return string(out), ok
}

// backUpToPreviousSlash drops the last segment of out, which ends in '/',
// keeping that slash before it; never past the first slash.
func backUpToPreviousSlash(out []byte) []byte {
	i := len(out) - 1
	if i == 0 {
		return out
	}
	for i--; out[i] != '/' && i > 0; i-- {
	}
	return out[:i+1]
}

// escapeNestedPercent is Chromium's CheckForNestedEscapes: out ends with a
// byte just decoded within two bytes of an earlier invalid '%' at
// percentAt. If that '%' and what follows it (with the next input byte when
// only one follows) now read as a valid escape, the '%' is written as %25
// so that canonicalizing the output again cannot decode it.
func escapeNestedPercent(in []byte, next, percentAt int, out []byte) []byte {
	length := len(out)
	last := out[length-1]
	appendNext := percentAt == length-2
	if appendNext {
		if next == len(in) || in[next] >= 0x80 {
			return out
		}
		out = append(out, in[next])
	}
	if _, valid := decodePercent(out, percentAt); valid {
		if !appendNext {
			out = append(out, out[percentAt+1])
		}
		out[percentAt+1], out[percentAt+2] = '2', '5'
		return append(out, last)
	}
	return out[:length]
}

// requestPathValue is the :path Envoy's HTTP/1 codec gives the connection
// manager: the request target as received when it is a path; for an
// absolute URL (allow_absolute_url defaults to true) its path and query, "/"
// when it has no path. Other targets ("*", a CONNECT authority) have no path
// to normalize.
func requestPathValue(r *http.Request) (string, bool) {
	if r.Method == http.MethodConnect {
		return "", false
	}
	target := r.RequestURI
	if strings.HasPrefix(target, "/") {
		return target, true
	}
	if r.URL == nil || r.URL.Host == "" {
		return "", false
	}
	_, rest, ok := strings.Cut(target, "://")
	if !ok {
		return "", false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[i:]
	} else {
		rest = ""
	}
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	return rest, true
}

// setRequestPath replaces the request's :path, so that routing, the http
// filters and the router all see the new one.
func setRequestPath(r *http.Request, path string) {
	p, query := cutQuery(path)
	r.RequestURI = path
	r.URL.Opaque = ""
	r.URL.RawPath = p
	if u, err := url.PathUnescape(p); err == nil {
		r.URL.Path = u
	} else {
		r.URL.Path = p
	}
	r.URL.RawQuery = strings.TrimPrefix(query, "?")
	r.URL.ForceQuery = query == "?"
}

// pinUpstreamPath makes the upstream request line carry :path exactly as
// Envoy's router sends it. Go writes the path from the URL, re-escaping a
// raw path it does not consider canonical (a '\' left by
// UNESCAPE_AND_FORWARD, say); an opaque URL is written verbatim. A path
// starting with "//" cannot be opaque (Go would write it as an absolute
// URL) and keeps Go's form.
func pinUpstreamPath(r *http.Request) {
	path, ok := requestPathValue(r)
	if !ok {
		return
	}
	p, _ := cutQuery(path)
	if r.URL.EscapedPath() == p || strings.HasPrefix(p, "//") {
		return
	}
	r.URL.Opaque = p
}

// isGRPC is Grpc::Common::hasGrpcContentType: content-type
// application/grpc, or application/grpc+something.
func isGRPC(hdr http.Header) bool {
	ct := hdr.Get("Content-Type")
	rest, ok := strings.CutPrefix(ct, "application/grpc")
	return ok && (rest == "" || rest[0] == '+')
}

// normalizePath is the path step of ConnectionManagerImpl::ActiveStream::
// decodeHeaders (source/common/http/conn_manager_impl.cc), before host
// normalization, header mutation, routing and the http filters: a rejected
// path is answered 400 (path_normalization_failed) and the connection
// closed, an unescaped slash under UNESCAPE_AND_REDIRECT 307 with Location
// set to the normalized :path (400 for gRPC, whose clients cannot follow
// redirects); otherwise the request goes on with the normalized path. It
// reports whether the request goes on.
func (h *hcmRuntime) normalizePath(w http.ResponseWriter, r *http.Request) bool {
	path, ok := requestPathValue(r)
	if !ok {
		return true
	}
	normalized, verdict := h.spec.paths.apply(path)
	if verdict == pathRedirect && isGRPC(r.Header) {
		verdict = pathReject
	}
	switch verdict {
	case pathReject:
		h.pathStats.failed.Add(1)
		h.badRequest(w, replyFor(r), "")
		return false
	case pathRedirect:
		h.pathStats.redirected.Add(1)
		w.Header()["Location"] = []string{normalized}
		h.localReply(w, r, http.StatusTemporaryRedirect, "")
		return false
	}
	if normalized != path {
		setRequestPath(r, normalized)
	}
	return true
}

// badRequest is a 400 local reply on HTTP/1: ActiveStream::onLocalReply
// marks the connection for closing on any 400 (unless
// stream_error_on_invalid_http_message, which the sim NACKs), so the reply
// carries "connection: close" and the connection ends after it.
func (h *hcmRuntime) badRequest(w http.ResponseWriter, form replyForm, body string) {
	w.Header()["Connection"] = []string{"close"}
	h.sendLocalReply(w, form, http.StatusBadRequest, body, nil)
}
