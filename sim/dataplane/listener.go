package dataplane

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
)

// listenerSpec is a compiled Listener.
type listenerSpec struct {
	name    string
	address netip.Addr // as configured (0.0.0.0 for a Gateway listener)
	port    uint32
	hcm     *hcmSpec
}

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
	if len(l.GetListenerFilters()) > 0 {
		return nil, errors.New("listener_filters are not implemented by the sim")
	}
	chains := l.GetFilterChains()
	if l.GetDefaultFilterChain() != nil {
		chains = append(chains, l.GetDefaultFilterChain())
	}
	if len(chains) != 1 {
		return nil, fmt.Errorf("the sim implements exactly one filter chain per listener, got %d", len(chains))
	}
	fc := chains[0]
	if fc.GetFilterChainMatch() != nil && !proto.Equal(fc.GetFilterChainMatch(), &listenerv3.FilterChainMatch{}) {
		return nil, errors.New("filter_chain_match is not implemented by the sim")
	}
	if fc.GetTransportSocket() != nil {
		return nil, errors.New("transport_socket (TLS) is not implemented by the sim")
	}
	if len(fc.GetFilters()) != 1 || fc.GetFilters()[0].GetTypedConfig() == nil {
		return nil, errors.New("the sim implements one network filter per chain: envoy.filters.network.http_connection_manager with a typed_config")
	}
	m, err := unpack(fc.GetFilters()[0].GetTypedConfig())
	if err != nil {
		return nil, err
	}
	h, ok := m.(*hcmv3.HttpConnectionManager)
	if !ok {
		return nil, fmt.Errorf("network filter %s is not implemented by the sim", fc.GetFilters()[0].GetTypedConfig().GetTypeUrl())
	}
	spec, err := compileHCM(h)
	if err != nil {
		return nil, fmt.Errorf("http_connection_manager: %w", err)
	}
	return &listenerSpec{name: l.GetName(), address: addr, port: sa.GetPortValue(), hcm: spec}, nil
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
