package dataplane_test

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/keyconform/keyconform/internal/xdstest"
	"github.com/keyconform/keyconform/sim/apikeyauth"
)

// TestWeightedClusterPerFilterConfig: a weighted cluster's
// typed_per_filter_config is the most specific level. Envoy's
// WeightedClusterEntry (source/common/router/config_impl.h) answers
// mostSpecificPerFilterConfig and filterDisabled from its own configs
// before its route's, and the cluster is picked when the route matches,
// before any filter runs.
func TestWeightedClusterPerFilterConfig(t *testing.T) {
	weighted := func(name, prefix string, routeLevel, clusterLevel *anypb.Any) *routev3.Route {
		r := xdstest.PrefixRoute(name, prefix, clusterName)
		r.GetRoute().ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{
			Clusters: []*routev3.WeightedCluster_ClusterWeight{{
				Name: clusterName, Weight: wrapperspb.UInt32(1),
				TypedPerFilterConfig: map[string]*anypb.Any{apikeyauth.FilterName: clusterLevel},
			}},
		}}
		if routeLevel != nil {
			r.TypedPerFilterConfig = map[string]*anypb.Any{apikeyauth.FilterName: routeLevel}
		}
		return r
	}
	client1 := xdstest.Any(t, apiKeys(map[string]string{"client1": "k-123"}))
	client2 := xdstest.Any(t, apiKeys(map[string]string{"client2": "k-456"}))
	res := standard(t, xdstest.VirtualHost(port, "",
		weighted("cluster-off", "/anything/cluster-off", client1, xdstest.DisabledFilter(t)),
		weighted("cluster-keys", "/anything/cluster-keys", client1, client2),
		weighted("cluster-on", "/anything/cluster-on", xdstest.DisabledFilter(t), client2),
		weighted("under-gateway", "/anything/under-gateway", nil, client2),
	))
	// A Gateway-level policy on the route configuration.
	res[1].(*routev3.RouteConfiguration).TypedPerFilterConfig = map[string]*anypb.Any{apikeyauth.FilterName: client1}
	e := newEnv(t)
	e.start(t, res...)

	e.expectStatuses(t, []keyedRequest{
		{"/anything/cluster-off", "", 200},
		{"/anything/cluster-keys", "k-456", 200},
		{"/anything/cluster-keys", "k-123", 401},
		{"/anything/cluster-on", "", 401},
		{"/anything/cluster-on", "k-456", 200},
		{"/anything/under-gateway", "k-456", 200},
		{"/anything/under-gateway", "k-123", 401},
	})
}
