package dataplane

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	healthcheckv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/sim/apikeyauth"
)

// authStage is one api_key_auth HttpFilter of a connection manager.
type authStage struct {
	name     string // the HttpFilter name, which keys typed_per_filter_config
	config   *apikeyauth.Config
	disabled bool // HttpFilter.disabled: off unless a route enables it
}

// perFilter is a compiled typed_per_filter_config, by filter name.
type perFilter map[string]perFilterEntry

type perFilterEntry struct {
	disabled bool
	config   *apikeyauth.Config // nil: enabled with no config of its own
}

type validator interface{ ValidateAll() error }

func unpack(a *anypb.Any) (proto.Message, error) {
	m, err := a.UnmarshalNew()
	if err != nil {
		return nil, err
	}
	if v, ok := m.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// compilePerFilter is Envoy's PerFilterConfigs constructor
// (source/common/router/per_filter_config.cc) for the filters the sim has,
// and for the per-route configs of Envoy filters it does not have
// (inertPerRouteTypes): Envoy builds those by type whether or not the
// filter is in the chain.
func compilePerFilter(configs map[string]*anypb.Any) (perFilter, error) {
	if len(configs) == 0 {
		return nil, nil
	}
	out := perFilter{}
	for _, name := range slices.Sorted(maps.Keys(configs)) {
		a := configs[name]
		optional := false
		if a.MessageIs(&routev3.FilterConfig{}) {
			var fc routev3.FilterConfig
			if err := a.UnmarshalTo(&fc); err != nil {
				return nil, err
			}
			if fc.GetDisabled() {
				out[name] = perFilterEntry{disabled: true}
				continue
			}
			if fc.GetConfig() == nil {
				return nil, fmt.Errorf("Empty route/virtual host per filter configuration for %s filter", name)
			}
			if fc.GetConfig().GetTypeUrl() == "" {
				out[name] = perFilterEntry{}
				continue
			}
			a, optional = fc.GetConfig(), fc.GetIsOptional()
		}
		if !a.MessageIs(&apikeyv3.ApiKeyAuthPerRoute{}) {
			if inertPerRouteTypes[a.MessageName()] {
				// A filter the sim does not have: checked, then the filter
				// counts as explicitly enabled, with no config the sim reads.
				if _, err := unpack(a); err != nil {
					return nil, fmt.Errorf("per filter config %s: %w", name, err)
				}
				out[name] = perFilterEntry{}
				continue
			}
			if optional {
				out[name] = perFilterEntry{}
				continue
			}
			return nil, fmt.Errorf("Didn't find a registered implementation for '%s' with type URL: '%s' (the sim implements per-route config only for envoy.filters.http.api_key_auth)", name, a.GetTypeUrl())
		}
		m, err := unpack(a)
		if err != nil {
			return nil, fmt.Errorf("per filter config %s: %w", name, err)
		}
		cfg, err := apikeyauth.CompilePerRoute(m.(*apikeyv3.ApiKeyAuthPerRoute))
		if err != nil {
			return nil, fmt.Errorf("per filter config %s: %w", name, err)
		}
		out[name] = perFilterEntry{config: cfg}
	}
	return out, nil
}

// httpChain is a compiled http filter chain.
type httpChain struct {
	healthCheck *healthCheck // first, when present
	stages      []authStage
	router      *routerv3.Router
}

// compileHTTPFilters checks the chain as Envoy does (terminal router last)
// and returns the health check, the api_key_auth stages and the router's
// settings.
func compileHTTPFilters(filters []*hcmv3.HttpFilter) (*httpChain, error) {
	chain := &httpChain{}
	for i, f := range filters {
		last := i == len(filters)-1
		if f.GetConfigDiscovery() != nil {
			return nil, fmt.Errorf("http filter %q uses config_discovery (ECDS), which the sim does not implement", f.GetName())
		}
		if f.GetTypedConfig() == nil {
			return nil, fmt.Errorf("http filter %q has no typed_config", f.GetName())
		}
		m, err := unpack(f.GetTypedConfig())
		if err != nil {
			if f.GetIsOptional() {
				continue
			}
			return nil, fmt.Errorf("http filter %q: %w", f.GetName(), err)
		}
		switch m := m.(type) {
		case *healthcheckv3.HealthCheck:
			if i != 0 || f.GetDisabled() {
				// Only the readiness listeners of bootstraps use it, first.
				return nil, fmt.Errorf("http filter %q: the sim implements %s only as the first, enabled filter of a chain", f.GetName(), "envoy.filters.http.health_check")
			}
			hc, err := compileHealthCheck(m)
			if err != nil {
				return nil, fmt.Errorf("http filter %q: %w", f.GetName(), err)
			}
			chain.healthCheck = hc
		case *apikeyv3.ApiKeyAuth:
			if last {
				return nil, fmt.Errorf("Error: non-terminal filter named %s of type %s is the last filter in a http filter chain.", f.GetName(), apikeyauth.FilterName)
			}
			cfg, err := apikeyauth.Compile(m)
			if err != nil {
				return nil, fmt.Errorf("http filter %q: %w", f.GetName(), err)
			}
			chain.stages = append(chain.stages, authStage{name: f.GetName(), config: cfg, disabled: f.GetDisabled()})
		case *routerv3.Router:
			if !last {
				return nil, fmt.Errorf("Error: terminal filter named %s of type envoy.filters.http.router must be the last filter in a http filter chain.", f.GetName())
			}
			chain.router = m
		default:
			if f.GetIsOptional() {
				continue
			}
			return nil, fmt.Errorf("http filter %q (%s) is not implemented by the sim, which implements envoy.filters.http.api_key_auth, envoy.filters.http.health_check and envoy.filters.http.router", f.GetName(), f.GetTypedConfig().GetTypeUrl())
		}
	}
	if chain.router == nil {
		return nil, errors.New("the http filter chain has no envoy.filters.http.router as its last filter")
	}
	return chain, nil
}

// stageConfig decides, for one stage, the matched route (nil when none)
// and the weighted cluster picked on it (nil for a direct response), the
// effective config, or nil when the filter does not run. The disabled
// decision comes from the most specific level that names the filter
// (weighted cluster, route, virtual host, route configuration, as
// WeightedClusterEntry and RouteEntryImplBase::filterDisabled), else
// HttpFilter.disabled; the config is the most specific per-route config
// merged over the filter's (docs/spec.md HCM-04, ATT-05).
func stageConfig(s authStage, t *routeTable, r *route, wc *weightedCluster) *apikeyauth.Config {
	disabled := s.disabled
	var perRoute *apikeyauth.Config
	if r != nil {
		levels := []perFilter{r.filters, r.vhost.filters, t.filters}
		if wc != nil {
			levels = append([]perFilter{wc.filters}, levels...)
		}
		for _, l := range levels {
			if e, ok := l[s.name]; ok {
				disabled = e.disabled
				break
			}
		}
		for _, l := range levels {
			if e, ok := l[s.name]; ok && e.config != nil {
				perRoute = e.config
				break
			}
		}
	}
	if disabled {
		return nil
	}
	return apikeyauth.Effective(s.config, perRoute)
}
