package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// listenerSpec is a compiled Listener.
type listenerSpec struct {
	name    string
	address netip.Addr // as configured (0.0.0.0 for a Gateway listener)
	port    uint32
	// chains are the filter chains, the default one (if any) last, with
	// fallback telling it is there; inspects whether connections must be
	// read (TLS ClientHello) before a chain can be chosen or served.
	chains   []*chainSpec
	fallback bool
	inspects bool
	// inspectTimeout is listener_filters_timeout: how long a connection
	// may take to show its ClientHello and finish its handshake before it
	// is closed (0: no limit).
	inspectTimeout time.Duration
}

// defaultListenerFiltersTimeout is Envoy's listener_filters_timeout.
const defaultListenerFiltersTimeout = 15 * time.Second

// hcmSpec is a compiled HttpConnectionManager with its router settings.
type hcmSpec struct {
	// streamIdle is stream_idle_timeout: how long a stream may see no
	// activity (Envoy's default 5 minutes; zero disables it). A route's
	// idle_timeout overrides it.
	streamIdle time.Duration

	statPrefix   string
	rdsName      string      // RDS over ADS, or
	inlineRoutes *routeTable // an inline route_config

	healthCheck          *healthCheck
	stages               []authStage
	suppressEnvoyHeaders bool

	useRemoteAddress          bool
	skipXFFAppend             bool
	xffTrustedHops            uint32
	internalCIDRs             []netip.Prefix
	generateRequestID         bool
	preserveExternalRequestID bool
	forwardClientCert         bool
	stripAnyHostPort          bool
	stripMatchingHostPort     bool
	stripTrailingHostDot      bool
	serverName                string
	serverTransform           hcmv3.HttpConnectionManager_ServerHeaderTransformation
	via                       string
	upgrades                  map[string]bool

	paths       pathPolicy                                              // normalize_path, merge_slashes, path_with_escaped_slashes_action
	underscores corev3.HttpProtocolOptions_HeadersWithUnderscoresAction // common_http_protocol_options
}

func compileListener(l *listenerv3.Listener) (*listenerSpec, error) {
	if err := l.ValidateAll(); err != nil {
		return nil, err
	}
	if err := checkRules(listenerFieldRules, l, "listener", ""); err != nil {
		return nil, err
	}
	sa := l.GetAddress().GetSocketAddress()
	if sa == nil || sa.GetPortValue() == 0 {
		return nil, errors.New("only a socket address with a port_value is implemented by the sim")
	}
	addr, err := netip.ParseAddr(sa.GetAddress())
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", sa.GetAddress(), err)
	}
	if err := checkListenerFilters(l.GetListenerFilters()); err != nil {
		return nil, err
	}
	spec := &listenerSpec{name: l.GetName(), address: addr, port: sa.GetPortValue(), inspectTimeout: defaultListenerFiltersTimeout}
	if t := l.GetListenerFiltersTimeout(); t != nil {
		spec.inspectTimeout = t.AsDuration()
	}
	for i, fc := range l.GetFilterChains() {
		c, err := compileFilterChain(fc)
		if err != nil {
			return nil, fmt.Errorf("filter_chains[%d]: %w", i, err)
		}
		spec.chains = append(spec.chains, c)
	}
	if err := checkDistinctMatches(spec.chains); err != nil {
		return nil, err
	}
	if fc := l.GetDefaultFilterChain(); fc != nil {
		if fc.GetFilterChainMatch() != nil {
			return nil, errors.New("default_filter_chain: a filter_chain_match is not allowed here")
		}
		c, err := compileFilterChain(fc)
		if err != nil {
			return nil, fmt.Errorf("default_filter_chain: %w", err)
		}
		spec.chains, spec.fallback = append(spec.chains, c), true
	}
	if len(spec.chains) == 0 {
		return nil, errors.New("no filter chains specified")
	}
	for _, c := range spec.chains {
		spec.inspects = spec.inspects || c.tls != nil || c.match.needsInspection()
	}
	return spec, nil
}

// chooseChain is the chain a connection with these attributes is served
// by: a matching one, else the default chain, else none (-1), and Envoy
// closes the connection.
func (l *listenerSpec) chooseChain(a connAttrs) int {
	if len(l.chains) == 1 && !l.inspects && l.chains[0].match.destinationPort == 0 {
		return 0 // the one chain takes everything: skip the search on every request
	}
	matched := l.chains
	if l.fallback {
		matched = l.chains[:len(l.chains)-1]
	}
	if i := selectChain(matched, a); i >= 0 {
		return i
	}
	if l.fallback {
		return len(l.chains) - 1
	}
	return -1
}

// checkListenerFilters accepts the TLS inspector only: the sim reads every
// connection's ClientHello where a chain needs it, as Envoy does with the
// inspector (which it adds itself when a chain matches on server names).
func checkListenerFilters(filters []*listenerv3.ListenerFilter) error {
	for i, f := range filters {
		if f.GetTypedConfig() == nil {
			return fmt.Errorf("listener_filters[%d] %q: no typed_config", i, f.GetName())
		}
		m, err := unpack(f.GetTypedConfig())
		if err != nil {
			return fmt.Errorf("listener_filters[%d]: %w", i, err)
		}
		if _, ok := m.(*tlsinspectorv3.TlsInspector); !ok {
			return fmt.Errorf("listener_filters[%d]: %s is not implemented by the sim (only the TLS inspector)", i, f.GetTypedConfig().GetTypeUrl())
		}
		if err := checkRules(listenerFieldRules, m, fmt.Sprintf("listener_filters[%d]", i), ""); err != nil {
			return err
		}
	}
	return nil
}

func compileHCM(h *hcmv3.HttpConnectionManager) (*hcmSpec, error) {
	if err := checkRules(hcmFieldRules, h, "http_connection_manager", ""); err != nil {
		return nil, err
	}
	if err := unsupported("http_connection_manager", map[string]bool{
		"codec_type (HTTP/2 or HTTP/3 only)": h.GetCodecType() == hcmv3.HttpConnectionManager_HTTP2 || h.GetCodecType() == hcmv3.HttpConnectionManager_HTTP3,
		"add_user_agent":                     h.GetAddUserAgent().GetValue(),
		"request_id_extension":               h.GetRequestIdExtension() != nil,
		"original_ip_detection_extensions":   len(h.GetOriginalIpDetectionExtensions()) > 0,
		"scheme_header_transformation":       h.GetSchemeHeaderTransformation() != nil,
		"local_reply_config":                 h.GetLocalReplyConfig() != nil,
	}); err != nil {
		return nil, err
	}
	s := &hcmSpec{
		streamIdle:                defaultStreamIdleTimeout,
		statPrefix:                h.GetStatPrefix(),
		useRemoteAddress:          h.GetUseRemoteAddress().GetValue(),
		skipXFFAppend:             h.GetSkipXffAppend(),
		xffTrustedHops:            h.GetXffNumTrustedHops(),
		generateRequestID:         h.GetGenerateRequestId() == nil || h.GetGenerateRequestId().GetValue(),
		preserveExternalRequestID: h.GetPreserveExternalRequestId(),
		forwardClientCert:         h.GetForwardClientCertDetails() == hcmv3.HttpConnectionManager_ALWAYS_FORWARD_ONLY,
		stripAnyHostPort:          h.GetStripAnyHostPort(),
		stripMatchingHostPort:     h.GetStripMatchingHostPort(),
		stripTrailingHostDot:      h.GetStripTrailingHostDot(),
		serverName:                h.GetServerName(),
		serverTransform:           h.GetServerHeaderTransformation(),
		via:                       h.GetVia(),
	}
	if s.serverName == "" {
		s.serverName = "envoy"
	}
	if t := h.GetStreamIdleTimeout(); t != nil {
		s.streamIdle = t.AsDuration()
	}
	if err := compileRequestHandling(h, s); err != nil {
		return nil, err
	}
	for _, c := range h.GetInternalAddressConfig().GetCidrRanges() {
		p, err := netip.ParsePrefix(fmt.Sprintf("%s/%d", c.GetAddressPrefix(), c.GetPrefixLen().GetValue()))
		if err != nil {
			return nil, fmt.Errorf("internal_address_config: %w", err)
		}
		s.internalCIDRs = append(s.internalCIDRs, p)
	}
	for _, u := range h.GetUpgradeConfigs() {
		if len(u.GetFilters()) > 0 {
			return nil, fmt.Errorf("upgrade config %q has its own filters, which the sim does not implement", u.GetUpgradeType())
		}
		if s.upgrades == nil {
			s.upgrades = map[string]bool{}
		}
		s.upgrades[strings.ToLower(u.GetUpgradeType())] = u.GetEnabled() == nil || u.GetEnabled().GetValue()
	}
	switch rs := h.GetRouteSpecifier().(type) {
	case *hcmv3.HttpConnectionManager_Rds:
		if rs.Rds.GetConfigSource().GetAds() == nil {
			return nil, errors.New("rds.config_source must be ads: the sim receives route configurations over its ADS stream only")
		}
		s.rdsName = rs.Rds.GetRouteConfigName()
	case *hcmv3.HttpConnectionManager_RouteConfig:
		t, err := compileRouteTable(rs.RouteConfig)
		if err != nil {
			return nil, err
		}
		s.inlineRoutes = t
	default:
		return nil, fmt.Errorf("route specifier %T is not implemented by the sim", rs)
	}
	chain, err := compileHTTPFilters(h.GetHttpFilters())
	if err != nil {
		return nil, err
	}
	s.healthCheck, s.stages, s.suppressEnvoyHeaders = chain.healthCheck, chain.stages, chain.router.GetSuppressEnvoyHeaders()
	return s, nil
}
