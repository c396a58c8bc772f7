package dataplane_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/keyconform/keyconform/internal/xdstest"
)

func TestUpstreamFailures(t *testing.T) {
	const unmapped = "10.244.0.99:8000"
	e := newEnv(t)
	res := standard(t, xdstest.VirtualHost(port, "www.example.com",
		xdstest.PrefixRoute("unmapped", "/unmapped", "kube_ns_unmapped_8000"),
		xdstest.PrefixRoute("empty", "/empty", "kube_ns_empty_8000"),
		xdstest.PrefixRoute("unknown", "/unknown", "kube_ns_unknown_8000"),
		&routev3.Route{Name: "split", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/status"}},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{
				WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{
					{Name: clusterName, Weight: wrapperspb.UInt32(1)}, {Name: "kube_ns_empty_8000", Weight: wrapperspb.UInt32(1)},
				}}}}}},
	))
	res = append(res,
		xdstest.Cluster("kube_ns_unmapped_8000"), xdstest.Endpoints(t, "kube_ns_unmapped_8000", unmapped),
		xdstest.Cluster("kube_ns_empty_8000"), xdstest.Endpoints(t, "kube_ns_empty_8000"),
	)
	e.start(t, res...)

	got := e.do(t, request{host: "www.example.com", path: "/unmapped"})
	if got.status != 503 || got.body != "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused" {
		t.Errorf("unmapped endpoint -> %d %q", got.status, got.body)
	}
	if n := e.network.Refusals()[unmapped]; n != 1 {
		t.Errorf("the pod network refused %s %d times, want exactly 1 (and never dialled it)", unmapped, n)
	}

	got = e.do(t, request{host: "www.example.com", path: "/empty"})
	if got.status != 503 || got.body != "no healthy upstream" || got.header.Get("Content-Type") != "text/plain" {
		t.Errorf("no endpoints -> %d %q %v", got.status, got.body, got.header)
	}
	got = e.do(t, request{host: "www.example.com", path: "/unknown"})
	if got.status != 503 || got.body != "" {
		t.Errorf("unknown cluster -> %d %q, want 503 with an empty body (cluster_not_found)", got.status, got.body)
	}

	// Weighted clusters split between a live and an empty cluster.
	seen := map[int]int{}
	for range 60 {
		seen[e.do(t, request{host: "www.example.com", path: "/status/200"}).status]++
	}
	if seen[200] == 0 || seen[503] == 0 || seen[200]+seen[503] != 60 {
		t.Errorf("weighted split statuses %v, want both 200 and 503", seen)
	}
}

func TestRoundRobinOverEndpoints(t *testing.T) {
	e := newEnv(t)
	for i, name := range []string{"a", "b"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, name) }))
		t.Cleanup(srv.Close)
		if err := e.network.Add(fmt.Sprintf("10.244.1.%d:80", i+1), srv.Listener.Addr().String()); err != nil {
			t.Fatal(err)
		}
	}
	res := standard(t, xdstest.VirtualHost(port, "", xdstest.PrefixRoute("all", "/", clusterName)))
	res[3] = xdstest.Endpoints(t, clusterName, "10.244.1.1:80", "10.244.1.2:80")
	e.start(t, res...)
	counts := map[string]int{}
	for range 10 {
		got := e.do(t, request{host: "h", path: "/"})
		counts[got.body]++
	}
	if counts["a"] != 5 || counts["b"] != 5 {
		t.Errorf("round robin over two endpoints answered %v, want 5 each", counts)
	}
}
