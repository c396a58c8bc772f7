package dataplane

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// directBody is a direct_response's body: the body DataSource, formatted
// by body_format when it is set (RouteEntryImplBase::formatBody: the
// format's %LOCAL_REPLY_BODY% is the body), and body_format's content type.
type directBody struct {
	body        string
	format      []string // formatString pieces; nil without body_format
	contentType string   // body_format.content_type; "" leaves local reply's own
}

func compileDirectBody(d *routev3.DirectResponseAction, maxBody uint32) (directBody, error) {
	var b directBody
	b.body = dataSourceText(d.GetBody())
	if len(b.body) > int(maxBody) {
		// DataSourceProvider::create with max_direct_response_body_size_bytes.
		return b, fmt.Errorf("response body size is %d bytes; maximum is %d", len(b.body), maxBody)
	}
	bf := d.GetBodyFormat()
	if bf == nil {
		return b, nil
	}
	var format string
	switch f := bf.GetFormat().(type) {
	case *corev3.SubstitutionFormatString_TextFormat:
		format = f.TextFormat
	case *corev3.SubstitutionFormatString_TextFormatSource:
		format = dataSourceText(f.TextFormatSource)
	default:
		return b, fmt.Errorf("direct_response body_format %T is not implemented by the sim (it implements text_format and text_format_source)", f)
	}
	pieces, err := formatString(format)
	if err != nil {
		return b, fmt.Errorf("direct_response body_format: %w", err)
	}
	for i := 1; i < len(pieces); i += 2 {
		if pieces[i] != "LOCAL_REPLY_BODY" {
			return b, fmt.Errorf("direct_response body_format: the substitution format command %%%s%% is not implemented by the sim (it implements %%LOCAL_REPLY_BODY%%)", pieces[i])
		}
	}
	b.format = pieces
	// The content type the router sets on the reply (Envoy PR 43694): the
	// configured one; text formats have none of their own.
	b.contentType = bf.GetContentType()
	return b, nil
}

// dataSourceText is an inline DataSource's content (files and environment
// variables are rejected by routeFieldRules).
func dataSourceText(ds *corev3.DataSource) string {
	if b := ds.GetInlineBytes(); b != nil {
		return string(b)
	}
	return ds.GetInlineString()
}

// render is the reply body. %LOCAL_REPLY_BODY% always has a value (the
// body, possibly empty), so omit_empty_values changes nothing.
func (b directBody) render() string {
	if b.format == nil {
		return b.body
	}
	var s strings.Builder
	for i, p := range b.format {
		if i%2 == 0 {
			s.WriteString(p)
		} else {
			s.WriteString(b.body)
		}
	}
	return s.String()
}

// regexRewrite is a RegexMatchAndSubstitute: every non-overlapping match
// of pattern (unanchored) replaced by substitution, with RE2's \N group
// references (Regex::CompiledGoogleReMatcher::replaceAll, RE2::GlobalReplace).
type regexRewrite struct {
	re       *regexp.Regexp
	template string // substitution in regexp.Expand syntax
}

func compileRegexRewrite(m *matcherv3.RegexMatchAndSubstitute) (*regexRewrite, error) {
	re, err := regexp.Compile(m.GetPattern().GetRegex())
	if err != nil {
		return nil, fmt.Errorf("invalid regex %q: %w", m.GetPattern().GetRegex(), err)
	}
	tmpl, err := re2Template(m.GetSubstitution(), re.NumSubexp())
	if err != nil {
		return nil, err
	}
	return &regexRewrite{re: re, template: tmpl}, nil
}

// re2Template turns an RE2 rewrite string (\0 to \9 for groups, \\ for a
// backslash) into a regexp template. A rewrite RE2::GlobalReplace refuses
// or half applies (a group the pattern does not have, another escape) is
// rejected: the sim does not reproduce those.
func re2Template(sub string, groups int) (string, error) {
	var b strings.Builder
	for i := 0; i < len(sub); i++ {
		switch c := sub[i]; {
		case c == '$':
			b.WriteString("$$")
		case c != '\\':
			b.WriteByte(c)
		case i+1 < len(sub) && sub[i+1] == '\\':
			b.WriteByte('\\')
			i++
		case i+1 < len(sub) && sub[i+1] >= '0' && sub[i+1] <= '9':
			n := int(sub[i+1] - '0')
			if n > groups {
				return "", fmt.Errorf("regex substitution %q refers to group %d, which the pattern does not have; Envoy then leaves the value unchanged, which the sim does not implement", sub, n)
			}
			b.WriteString("${" + strconv.Itoa(n) + "}")
			i++
		default:
			return "", fmt.Errorf("regex substitution %q has an escape RE2 refuses (only \\0 to \\9 and \\\\), which the sim does not implement", sub)
		}
	}
	return b.String(), nil
}

func (rw *regexRewrite) replaceAll(s string) string {
	return rw.re.ReplaceAllString(s, rw.template)
}

// pathOnly is Http::PathUtil::removeQueryAndFragment.
func pathOnly(path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		return path[:i]
	}
	return path
}

// rewritePathByPrefixOrRegex is the function of that name in
// config_impl.cc: a prefix rewrite replaces the matched part of the path
// (query kept); a regex rewrite replaces the path before its query, and
// does nothing when the result is empty. ok is false without a rewrite.
func rewritePathByPrefixOrRegex(path, matched, prefix string, regex *regexRewrite) (string, bool) {
	if prefix != "" {
		return prefix + path[min(len(matched), len(path)):], true
	}
	if regex != nil {
		p := pathOnly(path)
		np := regex.replaceAll(p)
		if np == "" {
			return "", false
		}
		return np + path[len(p):], true
	}
	return "", false
}

// matchedPath is what a route's path matcher matched, which a prefix
// rewrite replaces: the configured prefix or path (its length: a
// case-insensitive match matched as many bytes), or for a regex route the
// whole path before its query (PrefixRouteEntryImpl, PathRouteEntryImpl,
// PathSeparatedPrefixRouteEntryImpl and RegexRouteEntryImpl::
// rewritePathHeader / currentUrlPathAfterRewrite).
func (m *routeMatch) matchedPath(path string) string {
	if m.kind == pathRegex {
		return pathOnly(path)
	}
	return m.raw
}

// routeRewrites are a route action's URL rewrites, applied to the upstream
// request after the header mutations (RouteEntryImplBase::
// finalizeRequestHeaders): the host (finalizeHostHeader), then the path.
type routeRewrites struct {
	prefix        string
	regex         *regexRewrite
	hostLiteral   string
	hostHeader    string // canonical
	hostPathRegex *regexRewrite
	appendXFH     bool
}

func compileRewrites(a *routev3.RouteAction) (routeRewrites, bool, error) {
	rw := routeRewrites{prefix: a.GetPrefixRewrite(), hostLiteral: a.GetHostRewriteLiteral(), appendXFH: a.GetAppendXForwardedHost()}
	if rw.prefix != "" && a.GetRegexRewrite() != nil {
		return rw, false, errors.New("Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy")
	}
	var err error
	if a.GetRegexRewrite() != nil {
		if rw.regex, err = compileRegexRewrite(a.GetRegexRewrite()); err != nil {
			return rw, false, fmt.Errorf("regex_rewrite: %w", err)
		}
	}
	if h := a.GetHostRewriteHeader(); h != "" {
		rw.hostHeader = canonicalHeader(h)
	}
	if a.GetHostRewritePathRegex() != nil {
		if rw.hostPathRegex, err = compileRegexRewrite(a.GetHostRewritePathRegex()); err != nil {
			return rw, false, fmt.Errorf("host_rewrite_path_regex: %w", err)
		}
	}
	return rw, a.GetAutoHostRewrite().GetValue(), nil
}

// rewriteHost is finalizeHostHeader: the new host (literal, the first
// value of a header, or the path before its query through a regex), and
// nothing when it is empty.
func (rw *routeRewrites) rewriteHost(r *http.Request, keepOld bool) {
	var hostname string
	switch {
	case rw.hostLiteral != "":
		hostname = rw.hostLiteral
	case rw.hostHeader != "":
		if vs := r.Header[rw.hostHeader]; len(vs) > 0 {
			hostname = vs[0]
		}
	case rw.hostPathRegex != nil:
		if path, ok := requestPathValue(r); ok {
			hostname = rw.hostPathRegex.replaceAll(pathOnly(path))
		}
	}
	if hostname != "" {
		updateAuthority(r, hostname, rw.appendXFH, keepOld)
	}
}

// rewritePath is finalizePathHeader with prefix_rewrite or regex_rewrite,
// keeping the old :path in x-envoy-original-path unless the router
// suppresses Envoy's headers.
func (rw *routeRewrites) rewritePath(r *http.Request, m *routeMatch, keepOld bool) {
	path, ok := requestPathValue(r)
	if !ok {
		return
	}
	np, ok := rewritePathByPrefixOrRegex(path, m.matchedPath(path), rw.prefix, rw.regex)
	if !ok {
		return
	}
	if keepOld {
		r.Header["X-Envoy-Original-Path"] = []string{path}
	}
	setRequestPath(r, np)
}

// routeRedirect is a RedirectAction (Http::Utility::RedirectConfig, built
// by createRedirectConfig).
type routeRedirect struct {
	scheme        string // scheme_redirect
	https         bool   // https_redirect
	host          string
	port          string // ":<port_redirect>", or ""
	path          string // path_redirect
	pathHasQuery  bool
	prefixRewrite string
	regexRewrite  *regexRewrite
	stripQuery    bool
	status        int
}

func compileRedirect(rd *routev3.RedirectAction) (*routeRedirect, error) {
	out := &routeRedirect{
		scheme: rd.GetSchemeRedirect(), https: rd.GetHttpsRedirect(), host: rd.GetHostRedirect(),
		path: rd.GetPathRedirect(), prefixRewrite: rd.GetPrefixRewrite(), stripQuery: rd.GetStripQuery(),
	}
	if p := rd.GetPortRedirect(); p != 0 {
		out.port = ":" + strconv.FormatUint(uint64(p), 10)
	}
	out.pathHasQuery = strings.Contains(out.path, "?")
	if rd.GetRegexRewrite() != nil {
		var err error
		if out.regexRewrite, err = compileRegexRewrite(rd.GetRegexRewrite()); err != nil {
			return nil, fmt.Errorf("redirect regex_rewrite: %w", err)
		}
	}
	// ConfigUtility::parseRedirectResponseCode.
	switch rd.GetResponseCode() {
	case routev3.RedirectAction_MOVED_PERMANENTLY:
		out.status = http.StatusMovedPermanently
	case routev3.RedirectAction_FOUND:
		out.status = http.StatusFound
	case routev3.RedirectAction_SEE_OTHER:
		out.status = http.StatusSeeOther
	case routev3.RedirectAction_TEMPORARY_REDIRECT:
		out.status = http.StatusTemporaryRedirect
	case routev3.RedirectAction_PERMANENT_REDIRECT:
		out.status = http.StatusPermanentRedirect
	default:
		return nil, fmt.Errorf("redirect response_code %d is not a known code", rd.GetResponseCode())
	}
	return out, nil
}

// location is the Location of a direct response (Router::Filter::
// decodeHeaders: added for 201 and 3xx): the path, first rewritten by the
// redirect's prefix or regex rewrite (rewritePathHeader ->
// finalizePathHeaderForRedirect), then Http::Utility::newUri. A
// direct_response route has no redirect config: its Location is the
// request's own URI.
func (rt *route) location(r *http.Request) string {
	path, ok := requestPathValue(r)
	if !ok {
		return ""
	}
	rd := rt.redirect
	if rd == nil {
		rd = &routeRedirect{}
	}
	if np, ok := rewritePathByPrefixOrRegex(path, rt.match.matchedPath(path), rd.prefixRewrite, rd.regexRewrite); ok {
		path = np
	}
	return rd.newURI(r, path)
}

// newURI is Http::Utility::newUri.
func (rd *routeRedirect) newURI(r *http.Request, path string) string {
	scheme := rd.scheme
	if scheme == "" {
		scheme = requestScheme(r)
		if rd.https {
			scheme = "https"
		}
	}
	host := rd.host
	if host == "" {
		host = processRequestHost(r.Host, strings.Join(r.Header["X-Forwarded-Proto"], ","), scheme, rd.port)
	}
	if rd.path != "" {
		// The path_redirect's own query wins, and is not stripped.
		if rd.pathHasQuery {
			path = rd.path
		} else if i := strings.IndexByte(path, '?'); i >= 0 {
			path = rd.path + path[i:]
		} else {
			path = rd.path
		}
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if !rd.pathHasQuery && rd.stripQuery {
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
	}
	return scheme + "://" + host + rd.port + path
}

// processRequestHost (source/common/http/utility.cc) is the request's host
// for a redirect: without its port when the redirect sets one, or when the
// scheme changes from the one x-forwarded-proto says and the port is that
// scheme's default (http :80, https :443).
func processRequestHost(host, forwardedProto, newScheme, newPort string) string {
	if host == "" {
		return host
	}
	var end int
	if host[0] == '[' {
		end = strings.LastIndex(host, "]:")
		if end >= 0 {
			end++
		}
	} else {
		end = strings.LastIndexByte(host, ':')
	}
	if end < 0 {
		return host
	}
	port := host[end:]
	remove := newPort != ""
	if newScheme != forwardedProto {
		remove = remove || strings.EqualFold(forwardedProto, "https") && port == ":443"
		remove = remove || strings.EqualFold(forwardedProto, "http") && port == ":80"
	}
	if remove {
		return host[:end]
	}
	return host
}

// requestScheme is the request's :scheme on an HTTP/1.1 connection:
// ConnectionManagerUtility::mutateRequestHeaders sets it from
// x-forwarded-proto when that is exactly "http" or "https", else from the
// connection (getScheme, HeaderUtility::schemeIsValid).
func requestScheme(r *http.Request) string {
	if xfp := strings.Join(r.Header["X-Forwarded-Proto"], ","); xfp == "http" || xfp == "https" {
		return xfp
	}
	return connScheme(r)
}

// connScheme is the scheme of the downstream connection: https once TLS
// was terminated on it.
func connScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// streamLimits are a route's overrides of the stream's timers.
type streamLimits struct {
	// idle_timeout: replaces the connection manager's stream idle timeout
	// (5 minutes, the sim accepts no other); 0 disables it.
	idle *time.Duration
	// max_stream_duration.max_stream_duration: from the start of the
	// stream; 0 disables it.
	maxDuration *time.Duration
}
