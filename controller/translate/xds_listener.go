package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// mustAny packs a message the translator built itself. Marshalling is
// deterministic so that equal inputs give byte-identical resources; it only
// fails for messages that cannot be encoded at all, which would be a bug
// here, not bad input.
func mustAny(m proto.Message) *anypb.Any {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		panic("translate: packing " + string(m.ProtoReflect().Descriptor().FullName()) + ": " + err.Error())
	}
	return a
}

// adsConfigSource points RDS, EDS and SDS at the ADS stream.
func adsConfigSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

// envoyListener is the listener of one Gateway port: one HCM whose routes
// come over RDS, with API key auth present but disabled until a route,
// virtual host or route configuration enables it by per-filter config. An
// HTTP port has one filter chain; an HTTPS port one per Gateway listener,
// each with its certificates (all listeners of a port share a protocol:
// markConflicts sees to it).
func envoyListener(port int32, listeners []*listenerModel) *listenerv3.Listener {
	name := listenerName(port)
	l := &listenerv3.Listener{
		Name: name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address:       "0.0.0.0",
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(port)},
		}}},
	}
	hcm := hcmFilter(name)
	if listeners[0].spec.Protocol != gwv1.HTTPSProtocolType {
		l.FilterChains = []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{hcm}}}
		return l
	}
	l.ListenerFilters = []*listenerv3.ListenerFilter{tlsInspector()}
	for _, gl := range listeners {
		l.FilterChains = append(l.FilterChains, tlsFilterChain(gl, hcm))
	}
	return l
}

// hcmFilter is the HTTP connection manager of a port, whose
// RouteConfiguration is named routeConfig.
func hcmFilter(routeConfig string) *listenerv3.Filter {
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: "http",
		// An edge proxy, as kgateway configures it: the peer address becomes
		// x-forwarded-for instead of trusting what the client sent.
		UseRemoteAddress: wrapperspb.Bool(true),
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    adsConfigSource(),
			RouteConfigName: routeConfig,
		}},
		HttpFilters: []*hcmv3.HttpFilter{
			{
				Name:       apiKeyAuthFilterName,
				ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&apikeyauthv3.ApiKeyAuth{})},
				Disabled:   true,
			},
			{
				Name:       routerFilterName,
				ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&routerv3.Router{})},
			},
		},
	}
	return &listenerv3.Filter{
		Name:       hcmFilterName,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(hcm)},
	}
}
