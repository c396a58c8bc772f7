package dataplane

import (
	"errors"
	"net/http"

	healthcheckv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
)

// healthCheck is envoy.filters.http.health_check in non-pass-through mode
// (source/extensions/filters/http/health_check/health_check.cc): a request
// whose headers all match is answered by the filter itself, 200 with no
// body while the server is not failing health checks; other requests go
// on down the chain. Bootstraps use it for their readiness listener.
type healthCheck struct {
	headers []headerMatch
}

func compileHealthCheck(hc *healthcheckv3.HealthCheck) (*healthCheck, error) {
	if hc.GetPassThroughMode().GetValue() {
		return nil, errors.New("pass_through_mode: true (health checks answered by upstream clusters) is not implemented by the sim")
	}
	if err := unsupported("health_check", map[string]bool{
		"cache_time":                      hc.GetCacheTime() != nil,
		"cluster_min_healthy_percentages": len(hc.GetClusterMinHealthyPercentages()) > 0,
	}); err != nil {
		return nil, err
	}
	out := &healthCheck{}
	for _, h := range hc.GetHeaders() {
		m, err := compileHeaderMatch(h)
		if err != nil {
			return nil, err
		}
		out.headers = append(out.headers, m)
	}
	return out, nil
}

// matches says the filter answers r. A health check with no header
// matchers answers every request, as Envoy's does.
func (h *healthCheck) matches(r *http.Request) bool {
	for _, m := range h.headers {
		if !m.match(r) {
			return false
		}
	}
	return true
}
