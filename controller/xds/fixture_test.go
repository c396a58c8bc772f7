package xds

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"k8s.io/apimachinery/pkg/types"

	"github.com/keyconform/keyconform/controller/translate"
	"github.com/keyconform/keyconform/internal/logcapture"
	"github.com/keyconform/keyconform/internal/xdstest"
)

const apiKeyAuthFilter = "envoy.filters.http.api_key_auth"

// proxyFixture builds a proxy shaped as the shared conventions say: one
// listener on port 8080 with the api_key_auth filter disabled by default,
// one route carrying per-route credentials, one EDS cluster.
type proxyFixture struct {
	gateway types.NamespacedName
	// credentials maps client id to key.
	credentials map[string]string
	timeout     time.Duration
	endpointIP  string
}

func newFixture(ns, name string) proxyFixture {
	return proxyFixture{
		gateway:     types.NamespacedName{Namespace: ns, Name: name},
		credentials: map[string]string{"client1": "k-123", "client2": "k-456"},
		timeout:     5 * time.Second,
		endpointIP:  "10.244.0.7",
	}
}

const (
	listenerName = "listener~8080"
	clusterName  = "kube_default_httpbin_8000"
)

func (f proxyFixture) proxy(t testing.TB) translate.Proxy {
	t.Helper()
	return translate.Proxy{
		Gateway:   f.gateway,
		NodeID:    translate.NodeID(f.gateway),
		Listeners: []*listenerv3.Listener{f.listener(t, listenerName)},
		Routes:    []*routev3.RouteConfiguration{f.route(t)},
		Clusters:  []*clusterv3.Cluster{f.cluster()},
		Endpoints: []*endpointv3.ClusterLoadAssignment{f.endpoints(t)},
	}
}

func (f proxyFixture) listener(t testing.TB, routeConfig string) *listenerv3.Listener {
	return xdstest.Listener(t, 8080, func(hcm *hcmv3.HttpConnectionManager) {
		hcm.GetRds().RouteConfigName = routeConfig
	})
}

func (f proxyFixture) route(t testing.TB) *routev3.RouteConfiguration {
	r := xdstest.PrefixRoute("httpbin", "/", clusterName)
	r.TypedPerFilterConfig = map[string]*anypb.Any{
		apiKeyAuthFilter: xdstest.APIKeyAuth(t, f.credentials, true, "", "header:api-key"),
	}
	return xdstest.RouteConfig(8080, xdstest.VirtualHost(8080, "www.example.com", r))
}

func (f proxyFixture) cluster() *clusterv3.Cluster {
	c := xdstest.Cluster(clusterName)
	c.ConnectTimeout = durationpb.New(f.timeout)
	return c
}

func (f proxyFixture) endpoints(t testing.TB) *endpointv3.ClusterLoadAssignment {
	return xdstest.Endpoints(t, clusterName, net.JoinHostPort(f.endpointIP, "8080"))
}

// publish publishes the proxies, failing the test on error.
func publish(t *testing.T, s *Server, proxies ...translate.Proxy) {
	t.Helper()
	if err := s.Publish(context.Background(), proxies); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

// startServer runs a Server on a loopback port until the test ends.
func startServer(t *testing.T) (*Server, string, *logcapture.Buffer) {
	t.Helper()
	logs := &logcapture.Buffer{}
	s := NewServer(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on loopback: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, lis.Addr().String(), logs
}
