package dataplane_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	healthcheckv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/keyconform/keyconform/internal/xdstest"
	"github.com/keyconform/keyconform/sim/apikeyauth"
	"github.com/keyconform/keyconform/sim/dataplane"
	"github.com/keyconform/keyconform/sim/httpbin"
	"github.com/keyconform/keyconform/sim/podnet"
	"github.com/keyconform/keyconform/sim/xdsclient"
)

// readyListener is a bootstrap's readiness listener: the health check
// filter answers GET /ready, everything else is routed to cluster.
func readyListener(t *testing.T, port uint32, cluster string, filters ...*hcmv3.HttpFilter) *listenerv3.Listener {
	t.Helper()
	if filters == nil {
		filters = []*hcmv3.HttpFilter{healthCheckFilter(t), routerFilter(t)}
	}
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: "ready",
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: xdstest.RouteConfig(port,
			xdstest.VirtualHost(port, "*", xdstest.PrefixRoute("all", "/", cluster)))},
		HttpFilters: filters,
	}
	l := xdstest.Listener(t, port)
	l.Name = "ready"
	l.FilterChains[0].Filters[0].ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: xdstest.Any(t, hcm)}
	return l
}

func healthCheckFilter(t *testing.T) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: "envoy.filters.http.health_check", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: xdstest.Any(t, &healthcheckv3.HealthCheck{
		PassThroughMode: wrapperspb.Bool(false),
		Headers: []*routev3.HeaderMatcher{{Name: ":path", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
			StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "/ready"}},
		}}},
	})}}
}

func routerFilter(t *testing.T) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: xdstest.Any(t, &routerv3.Router{})}}
}

// staticCluster is a STATIC cluster with one endpoint.
func staticCluster(t *testing.T, name, addr string) *clusterv3.Cluster {
	c := xdstest.Cluster(name)
	c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
	c.EdsClusterConfig = nil
	c.LoadAssignment = xdstest.Endpoints(t, name, addr)
	return c
}

// run runs p until the test ends.
func run(t *testing.T, p *dataplane.Proxy) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitLive runs p and waits up to d for it to be LIVE.
func waitLive(t *testing.T, p *dataplane.Proxy, d time.Duration) error {
	t.Helper()
	run(t, p)
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	return p.WaitReady(ctx)
}

// A bootstrap's static resources, in a pod: the readiness listener on the
// pod IP answers /ready itself (Envoy's health check filter, 200, no body)
// and routes the rest to a static cluster on the pod's own loopback; with
// no dynamic resources the proxy is live at once.
func TestStaticResourcesInAPod(t *testing.T) {
	network := podnet.New()
	pod := network.Pod(netip.MustParseAddr("10.244.0.7"), "edge")
	backendLn, err := pod.Listen(netip.MustParseAddr("127.0.0.1"), 9000)
	if err != nil {
		t.Fatal(err)
	}
	backend := httpbin.Serve(backendLn)
	defer backend.Close()

	p, err := dataplane.New(dataplane.Options{
		StaticListeners: []*listenerv3.Listener{readyListener(t, 8082, "local")},
		StaticClusters:  []*clusterv3.Cluster{staticCluster(t, "local", "127.0.0.1:9000")},
		Pod:             pod,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitLive(t, p, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	client := &http.Client{Transport: &http.Transport{DialContext: network.DialContext}}
	for _, tc := range []struct {
		path       string
		status     int
		bodyPrefix string
	}{
		{"/ready", http.StatusOK, ""},          // answered by the health check filter
		{"/status/418", http.StatusTeapot, ""}, // go-httpbin on the pod's loopback
		{"/get", http.StatusOK, "{"},           // go-httpbin's echo
		// :path with a query is not exactly "/ready": routed on.
		{"/ready?x=1", http.StatusNotFound, ""},
	} {
		resp, err := client.Get("http://10.244.0.7:8082" + tc.path)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.HasPrefix(string(b), tc.bodyPrefix) {
			t.Errorf("GET %s: %d %q, want %d %q...", tc.path, resp.StatusCode, b, tc.status, tc.bodyPrefix)
		}
	}
}

func TestStaticResourceErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts dataplane.Options
		want string
	}{
		{"health check not first", dataplane.Options{StaticListeners: []*listenerv3.Listener{
			readyListener(t, 8082, "local", routerFilter(t), healthCheckFilter(t)),
		}}, `static_resources.listeners[0] "ready"`},
		{"unimplemented cluster type", dataplane.Options{StaticClusters: []*clusterv3.Cluster{func() *clusterv3.Cluster {
			c := staticCluster(t, "dns", "127.0.0.1:9000")
			c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST}
			return c
		}()}}, `static_resources.clusters[0] "dns"`},
		// Envoy's duplicate-key error echoes the key; a start-up error is
		// logged and shown on the pod, so it carries the key redacted.
		{"duplicated credential key", dataplane.Options{StaticListeners: []*listenerv3.Listener{func() *listenerv3.Listener {
			l := readyListener(t, 8082, "local")
			rc := xdstest.RouteConfig(8082, xdstest.VirtualHost(8082, "*", xdstest.PrefixRoute("all", "/", "local")))
			rc.VirtualHosts[0].TypedPerFilterConfig = map[string]*anypb.Any{
				apikeyauth.FilterName: xdstest.APIKeyAuth(t, map[string]string{"client-a": "k-static-secret", "client-b": "k-static-secret"}, false, "", "header:api-key"),
			}
			hcm := &hcmv3.HttpConnectionManager{
				StatPrefix:     "ready",
				RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: rc},
				HttpFilters:    []*hcmv3.HttpFilter{routerFilter(t)},
			}
			l.FilterChains[0].Filters[0].ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: xdstest.Any(t, hcm)}
			return l
		}()}}, "Duplicated credential key: '[redacted]'"},
		{"duplicate cluster", dataplane.Options{StaticClusters: []*clusterv3.Cluster{
			staticCluster(t, "local", "127.0.0.1:9000"), staticCluster(t, "local", "127.0.0.1:9001"),
		}}, `duplicate cluster name "local"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dataplane.New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "k-static-secret") {
				t.Fatal("the start-up error holds an API key")
			}
		})
	}
}

// xDS never replaces a static resource: Envoy's listener and cluster
// managers skip an update of one added by the bootstrap, without rejecting
// the response (ListenerImpl::blockUpdate, ClusterData::blockUpdate). A
// static listener that cannot bind stops the start, as it stops Envoy.
func TestStaticListenerOwnership(t *testing.T) {
	xds := xdstest.Start(t)
	p, err := dataplane.New(dataplane.Options{
		XDS:             xdsclient.Options{ServerAddress: xds.Addr(), NodeID: nodeID},
		StaticListeners: []*listenerv3.Listener{readyListener(t, 8082, "local")},
		StaticClusters:  []*clusterv3.Cluster{staticCluster(t, "local", "127.0.0.1:9000")},
		ListenOverrides: map[uint32]string{8082: "127.0.0.1:0", 8083: "127.0.0.1:0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	dynamic := readyListener(t, 8083, "local")
	xds.Set(t, nodeID, "1", dynamic, xdstest.Cluster(clusterName), xdstest.Endpoints(t, clusterName, podAddr))
	run(t, p)
	xds.WaitACK(t, resource.ListenerType, "1")
	// Still the bootstrap's listener on 8082, not the update's 8083.
	if _, ok := p.ListenerAddr(8083); ok {
		t.Error("the update replaced the static listener")
	}
	if _, ok := p.ListenerAddr(8082); !ok {
		t.Error("the static listener is gone")
	}

	pod := podnet.New().Pod(netip.MustParseAddr("10.244.0.7"), "edge")
	blocker, err := pod.Listen(netip.IPv4Unspecified(), 9999)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close()
	p2, err := dataplane.New(dataplane.Options{StaticListeners: []*listenerv3.Listener{readyListener(t, 9999, "local")},
		StaticClusters: []*clusterv3.Cluster{staticCluster(t, "local", "127.0.0.1:9000")}, Pod: pod})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Run with the port taken: %v", err)
	}
}

// An EDS cluster whose endpoints never come warms for its eds_config's
// initial_fetch_timeout, then goes on with none (503, no healthy upstream),
// as Envoy's cluster manager initialises it; with no timeout it warms for
// ever and the proxy never goes LIVE.
func TestEDSInitialFetchTimeout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		live    bool
	}{
		{"timeout 0: waits", 0, false},
		{"timeout: goes on without endpoints", 100 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xds := xdstest.Start(t)
			c := xdstest.Cluster("no-endpoints")
			c.EdsClusterConfig.EdsConfig.InitialFetchTimeout = durationpb.New(tc.timeout)
			xds.Set(t, nodeID, "1", readyListener(t, 8082, "no-endpoints"), c)
			p, err := dataplane.New(dataplane.Options{
				XDS:             xdsclient.Options{ServerAddress: xds.Addr(), NodeID: nodeID},
				ListenOverrides: map[uint32]string{8082: "127.0.0.1:0"},
			})
			if err != nil {
				t.Fatal(err)
			}
			err = waitLive(t, p, time.Second)
			if live := err == nil; live != tc.live {
				t.Fatalf("live within 1s: %v (%v), want %v", live, err, tc.live)
			}
			if !tc.live {
				return
			}
			addr, _ := p.ListenerAddr(8082)
			resp, err := http.Get("http://" + addr + "/anything")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || string(b) != "no healthy upstream" {
				t.Errorf("%d %q, want 503 no healthy upstream", resp.StatusCode, b)
			}
		})
	}
}

// initial_fetch_timeout: a server that never sends clusters holds the
// proxy in INITIALIZING until the timeout, then it goes on without them.
func TestInitialFetchTimeout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		live    bool
	}{
		{"no timeout: waits", 0, false},
		{"timeout: goes on", 100 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xds := xdstest.Start(t)
			// Listeners only: a state-of-the-world server answers no
			// request for a type it holds nothing of.
			xds.Set(t, nodeID, "1", readyListener(t, 8082, "nowhere"))
			p, err := dataplane.New(dataplane.Options{
				XDS:                  xdsclient.Options{ServerAddress: xds.Addr(), NodeID: nodeID},
				InitialFetchTimeouts: map[string]time.Duration{resource.ClusterType: tc.timeout},
				ListenOverrides:      map[uint32]string{8082: "127.0.0.1:0"},
			})
			if err != nil {
				t.Fatal(err)
			}
			err = waitLive(t, p, time.Second)
			if live := err == nil; live != tc.live {
				t.Fatalf("live within 1s: %v (%v), want %v; state %s", live, err, tc.live, p.ServerState())
			}
			if !tc.live && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatal(err)
			}
		})
	}
}
