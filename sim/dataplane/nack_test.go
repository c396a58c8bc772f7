package dataplane_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/internal/xdstest"
	"github.com/keyconform/keyconform/sim/apikeyauth"
)

// keyed is the translator's output for one route-level policy.
func keyed(t *testing.T, cfg *apikeyv3.ApiKeyAuthPerRoute, mutate ...func(*routev3.RouteConfiguration)) []types.Resource {
	r := xdstest.PrefixRoute("httpbin", "/", clusterName)
	r.TypedPerFilterConfig = map[string]*anypb.Any{apikeyauth.FilterName: xdstest.Any(t, cfg)}
	res := standard(t, xdstest.VirtualHost(port, "httpbin", r))
	for _, m := range mutate {
		m(res[1].(*routev3.RouteConfiguration))
	}
	return res
}

func apiKeys(keys map[string]string) *apikeyv3.ApiKeyAuthPerRoute {
	c := &apikeyv3.ApiKeyAuthPerRoute{KeySources: []*apikeyv3.KeySource{{Header: "api-key"}}}
	for _, client := range []string{"client1", "client2", "client3"} {
		if k, ok := keys[client]; ok {
			c.Credentials = append(c.Credentials, &apikeyv3.Credential{Client: client, Key: k})
		}
	}
	return c
}

func (e *env) status(t *testing.T, key string) int {
	t.Helper()
	return e.do(t, request{host: "httpbin", path: "/get", headers: map[string]string{"api-key": key}}).status
}

func TestNACKKeepsServingThePreviousConfig(t *testing.T) {
	e := newEnv(t)
	e.start(t, keyed(t, apiKeys(map[string]string{"client1": "k-123"}))...)
	if s := e.status(t, "k-123"); s != 200 {
		t.Fatalf("v1: key accepted with %d", s)
	}

	tests := []struct {
		name      string
		typeURL   string
		resources []types.Resource
		wantInErr string
	}{
		// Envoy's text, which echoes the key: the NACK carries it redacted.
		{"duplicated credential key", resource.RouteType,
			keyed(t, apiKeys(map[string]string{"client1": "k-999", "client2": "k-999"})), "Duplicated credential key: '[redacted]'"},
		{"key source with no field", resource.RouteType,
			keyed(t, &apikeyv3.ApiKeyAuthPerRoute{
				Credentials: []*apikeyv3.Credential{{Client: "client1", Key: "k-999"}},
				KeySources:  []*apikeyv3.KeySource{{}},
			}), "header"},
		{"route configuration failing ValidateAll", resource.RouteType,
			keyed(t, apiKeys(map[string]string{"client1": "k-999"}), func(rc *routev3.RouteConfiguration) {
				rc.VirtualHosts[0].Domains = nil
			}), "Domains"},
		{"listener failing ValidateAll", resource.ListenerType, func() []types.Resource {
			res := keyed(t, apiKeys(map[string]string{"client1": "k-999"}))
			res[0] = xdstest.Listener(t, port, func(h *hcmv3.HttpConnectionManager) { h.StatPrefix = "" })
			return res
		}(), "StatPrefix"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			version := fmt.Sprintf("bad-%d", i)
			e.xds.Set(t, nodeID, version, tt.resources...)
			nack := e.xds.WaitRequest(t, 10*time.Second, "NACK of "+version, func(r *discoveryv3.DiscoveryRequest) bool {
				return r.GetTypeUrl() == tt.typeURL && r.GetErrorDetail() != nil && strings.Contains(r.GetErrorDetail().GetMessage(), tt.wantInErr) &&
					r.GetVersionInfo() != version
			})
			msg := nack.GetErrorDetail().GetMessage()
			for _, secret := range []string{"k-123", "k-999"} {
				if strings.Contains(msg, secret) {
					t.Errorf("NACK detail holds a key: %q", strings.ReplaceAll(msg, secret, "<KEY>"))
				}
			}
			if s := e.status(t, "k-123"); s != 200 {
				t.Errorf("after the rejected update the previous key answers %d, want 200", s)
			}
			if s := e.status(t, "k-999"); s != 401 {
				t.Errorf("the rejected config's key answers %d, want 401", s)
			}
		})
	}
	if statValue(e.proxy, "http.http.rds.listener~8080.update_rejected") < 3 || statValue(e.proxy, "listener_manager.lds.update_rejected") < 1 {
		t.Errorf("rejection stats %v", e.proxy.Stats())
	}

	// A good update applies again.
	e.xds.Set(t, nodeID, "good", keyed(t, apiKeys(map[string]string{"client1": "k-456"}))...)
	eventually(t, "the new key to apply", func() error {
		if s := e.status(t, "k-456"); s != 200 {
			return fmt.Errorf("new key answers %d", s)
		}
		if s := e.status(t, "k-123"); s != 401 {
			return fmt.Errorf("old key answers %d", s)
		}
		return nil
	})
}

func TestReconnectServesLastGoodConfig(t *testing.T) {
	e := newEnv(t)
	e.start(t, keyed(t, apiKeys(map[string]string{"client1": "k-123"}))...)
	if s := e.status(t, "k-123"); s != 200 {
		t.Fatalf("status %d", s)
	}
	e.xds.Stop()
	eventually(t, "the sim to notice the control plane left", func() error {
		if v := statValue(e.proxy, "control_plane.connected_state"); v != 0 {
			return fmt.Errorf("connected_state %d", v)
		}
		return nil
	})
	for range 5 {
		if s := e.status(t, "k-123"); s != 200 {
			t.Fatalf("while the control plane is away the last good config answers %d", s)
		}
	}
	e.xds.Restart(t)
	e.xds.Set(t, nodeID, "2", keyed(t, apiKeys(map[string]string{"client2": "k-456"}))...)
	eventually(t, "the new config after reconnecting", func() error {
		if s := e.status(t, "k-456"); s != 200 {
			return fmt.Errorf("new key answers %d", s)
		}
		if s := e.status(t, "k-123"); s != 401 {
			return fmt.Errorf("old key answers %d", s)
		}
		return nil
	})
}

func TestDisableAtRouteUnderGatewayPolicy(t *testing.T) {
	// A Gateway-level policy sits on the route configuration; one route
	// turns the filter off with FilterConfig{disabled: true}.
	open := xdstest.PrefixRoute("open", "/anything/open", clusterName)
	open.TypedPerFilterConfig = map[string]*anypb.Any{apikeyauth.FilterName: xdstest.DisabledFilter(t)}
	res := standard(t, xdstest.VirtualHost(port, "", open, xdstest.PrefixRoute("closed", "/", clusterName)))
	res[1].(*routev3.RouteConfiguration).TypedPerFilterConfig = map[string]*anypb.Any{
		apikeyauth.FilterName: xdstest.Any(t, apiKeys(map[string]string{"client1": "k-123"})),
	}
	e := newEnv(t)
	e.start(t, res...)
	e.expectStatuses(t, []keyedRequest{
		{"/anything/open", "", 200},
		{"/get", "", 401},
		{"/get", "k-123", 200},
		{"/nothing-matches-here-but-closed", "wrong", 401},
	})
}
