package dataplane

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// headerMutations is one level's request_headers_to_add/remove or
// response_headers_to_add/remove: Envoy's HeaderParser
// (source/common/router/header_parser.cc).
type headerMutations struct {
	remove []string // canonical names
	add    []headerAdd
}

type headerAdd struct {
	name      string // canonical
	value     string // the literal value, %% unescaped
	action    corev3.HeaderValueOption_HeaderAppendAction
	keepEmpty bool
}

// compileHeaderMutations is HeaderParser::configure with
// HeadersToAddEntry's checks: neither :-prefixed names nor host may be
// added or removed, append and append_action may not both be set (append
// true is APPEND_IF_EXISTS_OR_ADD, false OVERWRITE_IF_EXISTS_OR_ADD), and
// values are substitution format strings, of which the sim implements
// literal text only. It returns nil when there is nothing to do.
func compileHeaderMutations(add []*corev3.HeaderValueOption, remove []string) (*headerMutations, error) {
	if len(add) == 0 && len(remove) == 0 {
		return nil, nil
	}
	m := &headerMutations{}
	for _, o := range add {
		key := o.GetHeader().GetKey()
		if !modifiableHeader(key) {
			return nil, errors.New(":-prefixed or host headers may not be modified")
		}
		a := headerAdd{name: canonicalHeader(key), action: o.GetAppendAction(), keepEmpty: o.GetKeepEmptyValue()}
		if o.GetAppend() != nil {
			if o.GetAppendAction() != corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD {
				return nil, errors.New("Both append and append_action are set and it's not allowed")
			}
			a.action = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
			if o.GetAppend().GetValue() {
				a.action = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
			}
		}
		switch a.action {
		case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD, corev3.HeaderValueOption_ADD_IF_ABSENT,
			corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
		default:
			return nil, fmt.Errorf("header %q: append_action %d is not a known action", key, a.action)
		}
		v, err := literalFormat(o.GetHeader().GetValue())
		if err != nil {
			return nil, fmt.Errorf("header %q: %w", key, err)
		}
		a.value = v
		m.add = append(m.add, a)
	}
	for _, name := range remove {
		if !modifiableHeader(name) {
			return nil, errors.New(":-prefixed or host headers may not be removed")
		}
		m.remove = append(m.remove, canonicalHeader(name))
	}
	return m, nil
}

// modifiableHeader is HeaderUtility::isModifiableHeader (and
// isRemovableHeader): not a pseudo-header, not host.
func modifiableHeader(name string) bool {
	return name != "" && name[0] != ':' && !strings.EqualFold(name, "host")
}

// formatCommand is the syntax of a substitution format command
// (commandWithArgsRegex in source/common/formatter/substitution_formatter.cc):
// %COMMAND%, %COMMAND(ARG)% or either with :LENGTH.
var formatCommand = regexp.MustCompile(`^%((?:[A-Z]|[0-9]|_)+)(?:\((.*?)\))?(?::([0-9]+))?%`)

// formatString parses a substitution format string as
// SubstitutionFormatParser::parse does: "%%" is a literal '%', any other
// '%' starts a command, and a '%' that does not form one makes Envoy
// reject the configuration. It returns the pieces: literal text, and the
// commands (without their '%') in between, at odd indexes.
func formatString(format string) ([]string, error) {
	var pieces []string
	var lit strings.Builder
	for pos := 0; pos < len(format); {
		if format[pos] != '%' {
			lit.WriteByte(format[pos])
			pos++
			continue
		}
		if pos+1 < len(format) && format[pos+1] == '%' {
			lit.WriteByte('%')
			pos += 2
			continue
		}
		m := formatCommand.FindStringSubmatchIndex(format[pos:])
		if m == nil {
			return nil, fmt.Errorf("Incorrect configuration: %s. Couldn't find valid command at position %d", format, pos)
		}
		pieces = append(pieces, lit.String(), format[pos+1:pos+m[1]-1])
		lit.Reset()
		pos += m[1]
	}
	return append(pieces, lit.String()), nil
}

// literalFormat is a header value's text when it holds no command. The
// sim implements no substitution command in header values: Envoy Gateway
// emits none there (its translator's golden route configurations have
// literal values only), and a command's value depends on stream state the
// sim does not model exactly.
func literalFormat(format string) (string, error) {
	pieces, err := formatString(format)
	if err != nil {
		return "", err
	}
	if len(pieces) > 1 {
		return "", fmt.Errorf("the substitution format command %%%s%% is not implemented by the sim (it implements literal header values)", pieces[1])
	}
	return pieces[0], nil
}

// apply is HeaderParser::evaluateHeaders: remove first, then decide every
// addition against the headers as they are now (ADD_IF_ABSENT and
// OVERWRITE_IF_EXISTS look at them before any of this level's additions),
// then overwrite, then append. An empty value is skipped unless
// keep_empty_value. Appending to a header Envoy keeps inline joins the
// values with "," (HeaderMapImpl::insertByKey); any other header gets
// another field.
func (m *headerMutations) apply(hdr http.Header, inline map[string]bool) {
	if m == nil {
		return
	}
	for _, name := range m.remove {
		delete(hdr, name)
	}
	var overwrite, add []headerAdd
	for _, a := range m.add {
		if a.value == "" && !a.keepEmpty {
			continue
		}
		switch a.action {
		case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
			add = append(add, a)
		case corev3.HeaderValueOption_ADD_IF_ABSENT:
			if len(hdr[a.name]) == 0 {
				add = append(add, a)
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
			if len(hdr[a.name]) > 0 {
				overwrite = append(overwrite, a)
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
			overwrite = append(overwrite, a)
		}
	}
	for _, a := range overwrite {
		hdr[a.name] = []string{a.value}
	}
	for _, a := range add {
		switch old := hdr[a.name]; {
		case len(old) == 0:
			hdr[a.name] = []string{a.value}
		case inline[a.name]:
			hdr[a.name] = []string{strings.Join(old, ",") + "," + a.value}
		default:
			hdr[a.name] = append(old, a.value)
		}
	}
}

// The headers Envoy's header maps keep inline (envoy/http/header_map.h:
// INLINE_REQ_HEADERS and INLINE_REQ_RESP_HEADERS for requests,
// INLINE_RESP_HEADERS, INLINE_RESP_HEADERS_TRAILERS and
// INLINE_REQ_RESP_HEADERS for responses). Extensions can register more
// (CustomInlineHeaderRegistry); those are not known here and get another
// field when appended to.
var (
	inlineReqResp = []string{
		"connection", "content-type", "x-envoy-decorator-operation", "keep-alive", "proxy-connection",
		"proxy-status", "x-request-id", "transfer-encoding", "upgrade", "via", "content-length",
		"x-envoy-attempt-count",
	}
	inlineRequestHeaders = inlineSet(inlineReqResp, []string{
		"x-client-trace-id", "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node",
		"x-envoy-external-address", "x-envoy-force-trace", "x-envoy-hedge-on-per-try-timeout",
		"x-envoy-internal", "x-envoy-ip-tags", "x-envoy-retry-on", "x-envoy-retry-grpc-on",
		"x-envoy-retriable-status-codes", "x-envoy-retriable-header-names", "x-envoy-original-path",
		"x-envoy-original-url", "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-alt-response",
		"expect", "x-forwarded-client-cert", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto",
		"grpc-timeout", "te", "user-agent", "x-envoy-expected-rq-timeout-ms", "x-envoy-max-retries",
		"x-envoy-upstream-rq-timeout-ms", "x-envoy-upstream-rq-per-try-timeout-ms",
		"x-envoy-upstream-stream-duration-ms",
	})
	inlineResponseHeaders = inlineSet(inlineReqResp, []string{
		"date", "x-envoy-degraded", "x-envoy-immediate-health-check-fail", "x-envoy-ratelimited",
		"x-envoy-upstream-canary", "x-envoy-upstream-healthchecked-cluster", "location", "server",
		"x-envoy-upstream-service-time", "grpc-message", "grpc-status",
	})
)

func inlineSet(lists ...[]string) map[string]bool {
	out := map[string]bool{}
	for _, l := range lists {
		for _, n := range l {
			out[http.CanonicalHeaderKey(n)] = true
		}
	}
	return out
}

// updateAuthority is Http::Utility::updateAuthority: with a host, keep it
// in x-envoy-original-host (keepOld) and append it to x-forwarded-host
// (appendXFH) unless it already is its last value; then set the host.
func updateAuthority(r *http.Request, hostname string, appendXFH, keepOld bool) {
	if host := r.Host; host != "" {
		if keepOld {
			r.Header["X-Envoy-Original-Host"] = []string{host}
		}
		if appendXFH {
			// StrSplit(value, ',', SkipWhitespace): pieces are not trimmed,
			// whitespace-only ones are dropped.
			var last string
			for _, p := range strings.Split(strings.Join(r.Header["X-Forwarded-Host"], ","), ",") {
				if strings.TrimSpace(p) != "" {
					last = p
				}
			}
			if last != host {
				appendHeader(r.Header, "X-Forwarded-Host", host, ",")
			}
		}
	}
	r.Host = hostname
}
