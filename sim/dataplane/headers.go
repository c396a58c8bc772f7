package dataplane

import (
	"encoding/hex"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"golang.org/x/net/http/httpguts"
)

// Headers Envoy removes from requests that are not internal
// (ConnectionManagerUtility::cleanInternalHeaders).
var (
	edgeOnlyInternalHeaders = []string{
		"X-Envoy-Decorator-Operation", "X-Envoy-Downstream-Service-Cluster", "X-Envoy-Downstream-Service-Node",
	}
	internalHeaders = []string{
		"X-Envoy-Retriable-Status-Codes", "X-Envoy-Retriable-Header-Names", "X-Envoy-Retry-On",
		"X-Envoy-Retry-Grpc-On", "X-Envoy-Max-Retries", "X-Envoy-Upstream-Alt-Stat-Name",
		"X-Envoy-Upstream-Rq-Timeout-Ms", "X-Envoy-Upstream-Rq-Per-Try-Timeout-Ms",
		"X-Envoy-Upstream-Rq-Timeout-Alt-Response", "X-Envoy-Expected-Rq-Timeout-Ms",
		"X-Envoy-Force-Trace", "X-Envoy-Ip-Tags", "X-Envoy-Original-Url", "X-Envoy-Hedge-On-Per-Try-Timeout",
	}
)

// normalizeHost is ConnectionManagerUtility::maybeNormalizeHost, run before
// routing: strip_trailing_host_dot, then strip_any_host_port or
// strip_matching_host_port. The stripped host is also what goes upstream.
func (h *hcmRuntime) normalizeHost(r *http.Request) {
	if h.spec.stripTrailingHostDot {
		r.Host = stripTrailingDot(r.Host)
	}
	switch {
	case h.spec.stripAnyHostPort:
		r.Host, _ = stripHostPort(r.Host)
	case h.spec.stripMatchingHostPort:
		if host, port := stripHostPort(r.Host); port == strconv.Itoa(int(h.listenerPort)) {
			r.Host = host
		}
	}
}

// stripHostPort is HeaderUtility::stripPortFromHost: the port after the
// last ':' that is not inside an IPv6 literal, if it is a number.
func stripHostPort(host string) (string, string) {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.LastIndexByte(host, ']') > i {
		return host, ""
	}
	if _, err := strconv.ParseUint(host[i+1:], 10, 32); err != nil {
		return host, ""
	}
	return host[:i], host[i+1:]
}

func stripPort(host string) string {
	h, _ := stripHostPort(host)
	return h
}

func stripTrailingDot(host string) string {
	if strings.HasSuffix(host, ".") {
		return host[:len(host)-1]
	}
	if h, port := stripHostPort(host); port != "" && strings.HasSuffix(h, ".") {
		return h[:len(h)-1] + ":" + port
	}
	return host
}

// mutateRequestHeaders is ConnectionManagerUtility::mutateRequestHeaders for
// a plain-text HTTP/1.1 connection. Since Envoy 1.36 an HCM without
// internal_address_config treats no address as internal, so by default
// every request is external, and with use_remote_address an edge request.
func (h *hcmRuntime) mutateRequestHeaders(r *http.Request) {
	hdr := r.Header
	if upgradeType(hdr) == "" {
		delete(hdr, "Connection")
		delete(hdr, "Upgrade")
	}
	delete(hdr, "X-Envoy-Internal")
	delete(hdr, "Keep-Alive")
	delete(hdr, "Proxy-Connection")
	delete(hdr, "Transfer-Encoding")
	if te, ok := hdr["Te"]; ok {
		// Envoy keeps only "trailers" of TE.
		if httpguts.HeaderValuesContainsToken(te, "trailers") {
			hdr["Te"] = []string{"trailers"}
		} else {
			delete(hdr, "Te")
		}
	}

	remote := addrOf(r.RemoteAddr)
	var final netip.Addr
	allowTrusted := false
	s := h.spec
	if s.useRemoteAddress {
		allowTrusted = len(hdr["X-Forwarded-For"]) == 0
		if s.xffTrustedHops > 0 {
			final, _ = lastXFFAddress(hdr, int(s.xffTrustedHops)-1)
		}
		if !final.IsValid() {
			final = remote
		}
		if !s.skipXFFAppend {
			appended := remote
			if remote.IsLoopback() {
				// Envoy appends its own address for a loopback peer; the
				// sim's own address is the listener's.
				appended = localAddrOf(r)
			}
			appendXFF(hdr, appended)
		}
		if s.xffTrustedHops == 0 || len(hdr["X-Forwarded-Proto"]) == 0 {
			hdr["X-Forwarded-Proto"] = []string{connScheme(r)}
		}
	} else {
		final, allowTrusted = lastXFFAddress(hdr, int(s.xffTrustedHops))
	}
	if len(hdr["X-Forwarded-Proto"]) == 0 {
		hdr["X-Forwarded-Proto"] = []string{connScheme(r)}
	}

	internal := allowTrusted && final.IsValid() && s.isInternal(final)
	edge := !internal && s.useRemoteAddress
	if internal {
		hdr["X-Envoy-Internal"] = []string{"true"}
	} else {
		if edge {
			deleteAll(hdr, edgeOnlyInternalHeaders)
		}
		deleteAll(hdr, internalHeaders)
		deleteAll(hdr, h.table.internalOnlyHeaders)
	}
	if s.via != "" {
		appendHeader(hdr, "Via", s.via, ", ")
	}
	if edge && final.IsValid() {
		hdr["X-Envoy-External-Address"] = []string{final.String()}
	}
	if s.generateRequestID && ((edge && !s.preserveExternalRequestID) || len(hdr["X-Request-Id"]) == 0) {
		hdr["X-Request-Id"] = []string{newRequestID()}
	}
	if !s.forwardClientCert {
		delete(hdr, "X-Forwarded-Client-Cert")
	}
}

func (s *hcmSpec) isInternal(a netip.Addr) bool {
	for _, p := range s.internalCIDRs {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

func deleteAll(hdr http.Header, names []string) {
	for _, n := range names {
		delete(hdr, n)
	}
}

// lastXFFAddress is Utility::getLastAddressFromXFF: the address skip entries
// from the right of x-forwarded-for, and whether XFF holds one address.
func lastXFFAddress(hdr http.Header, skip int) (netip.Addr, bool) {
	vs := hdr["X-Forwarded-For"]
	if len(vs) == 0 {
		return netip.Addr{}, false
	}
	parts := strings.Split(strings.Join(vs, ","), ",")
	i := len(parts) - 1 - skip
	if i < 0 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
	if err != nil {
		return netip.Addr{}, false
	}
	return a, len(parts) == 1
}

func appendXFF(hdr http.Header, a netip.Addr) {
	if a.IsValid() {
		appendHeader(hdr, "X-Forwarded-For", a.Unmap().String(), ",")
	}
}

// appendHeader folds repeated values and appends one, as Envoy's
// appendToHeader does.
func appendHeader(hdr http.Header, name, value, sep string) {
	if old := hdr[name]; len(old) > 0 {
		value = strings.Join(old, ",") + sep + value
	}
	hdr[name] = []string{value}
}

func addrOf(hostport string) netip.Addr {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func localAddrOf(r *http.Request) netip.Addr {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return addrOf(a.String())
	}
	return netip.Addr{}
}

// upgradeType is the Upgrade header's value when Connection asks for it.
func upgradeType(hdr http.Header) string {
	if !httpguts.HeaderValuesContainsToken(hdr["Connection"], "Upgrade") {
		return ""
	}
	return hdr.Get("Upgrade")
}

// newRequestID is a version 4 UUID, as Envoy's default request id
// extension generates.
func newRequestID() string {
	var b [16]byte
	for i := range 2 {
		v := rand.Uint64()
		for j := range 8 {
			b[i*8+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// setServer applies server_header_transformation to a response.
func (h *hcmRuntime) setServer(hdr http.Header) {
	switch h.spec.serverTransform {
	case hcmv3.HttpConnectionManager_PASS_THROUGH:
	case hcmv3.HttpConnectionManager_APPEND_IF_ABSENT:
		if len(hdr["Server"]) == 0 {
			hdr["Server"] = []string{h.spec.serverName}
		}
	default:
		hdr["Server"] = []string{h.spec.serverName}
	}
}
