package dataplane_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	commonlbv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/common/v3"
	leastrequestv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/least_request/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/keyconform/keyconform/internal/xdstest"
)

// egCluster is a cluster as Envoy Gateway v1.9.1 emits it for a route rule
// (internal/xds/translator/testdata/out/xds-ir/http-route.clusters.yaml):
// EDS over ADS, least request with locality weighted load balancing, the
// given connect timeout (Envoy Gateway's default is 10s), and the fields
// Envoy Gateway always sets.
func egCluster(t *testing.T, name string, connectTimeout time.Duration, lr *leastrequestv3.LeastRequest) *clusterv3.Cluster {
	t.Helper()
	if lr == nil {
		lr = &leastrequestv3.LeastRequest{}
	}
	lr.LocalityLbConfig = &commonlbv3.LocalityLbConfig{LocalityConfigSpecifier: &commonlbv3.LocalityLbConfig_LocalityWeightedLbConfig_{
		LocalityWeightedLbConfig: &commonlbv3.LocalityLbConfig_LocalityWeightedLbConfig{},
	}}
	c := xdstest.EGCluster(t, name, "envoy.load_balancing_policies.least_request", lr)
	c.ConnectTimeout = durationpb.New(connectTimeout)
	return c
}

// egBackend is one backendRef of a route rule as Envoy Gateway puts it in
// the cluster's assignment: a locality named after the backend, weighted
// with the backendRef's weight (0: none), each endpoint of weight 1.
type egBackend struct {
	weight   uint32
	priority uint32
	hosts    []string // virtual IP:port
	draining []string
}

func egEndpoints(t *testing.T, cluster string, backends ...egBackend) *endpointv3.ClusterLoadAssignment {
	t.Helper()
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: cluster}
	for i, b := range backends {
		l := &endpointv3.LocalityLbEndpoints{
			Locality: &corev3.Locality{Region: fmt.Sprintf("%s/backend/%d", cluster, i)},
			Priority: b.priority,
		}
		if b.weight > 0 {
			l.LoadBalancingWeight = wrapperspb.UInt32(b.weight)
		}
		add := func(addr string, status corev3.HealthStatus) {
			l.LbEndpoints = append(l.LbEndpoints, &endpointv3.LbEndpoint{
				HealthStatus:        status,
				LoadBalancingWeight: wrapperspb.UInt32(1),
				HostIdentifier:      &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: xdstest.SocketAddress(t, addr)}},
			})
		}
		for _, h := range b.hosts {
			add(h, corev3.HealthStatus_UNKNOWN)
		}
		for _, h := range b.draining {
			add(h, corev3.HealthStatus_DRAINING)
		}
		cla.Endpoints = append(cla.Endpoints, l)
	}
	return cla
}

// namedBackend serves its name at virtual, through the pod network. Its
// /slow path waits for release.
func namedBackend(t *testing.T, e *env, name, virtual string, release <-chan struct{}, started chan<- string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			started <- name
			<-release
		}
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	if err := e.network.Add(virtual, srv.Listener.Addr().String()); err != nil {
		t.Fatal(err)
	}
}

// An Envoy Gateway cluster over xDS, and where its requests go: localities
// by their weights (1:3), none to a backend without weight, to a draining
// endpoint or to a lower priority while the first is healthy.
func TestEnvoyGatewayClusterLocalityWeights(t *testing.T) {
	e := newEnv(t)
	hosts := map[string]string{"a": "10.244.2.1:80", "b": "10.244.2.2:80", "c": "10.244.2.3:80", "d": "10.244.2.4:80", "p1": "10.244.2.5:80"}
	for name, addr := range hosts {
		namedBackend(t, e, name, addr, nil, nil)
	}
	const cluster = "httproute/default/backends/rule/0"
	e.start(t,
		xdstest.Listener(t, port),
		xdstest.RouteConfig(port, xdstest.VirtualHost(port, "", xdstest.PrefixRoute("all", "/", cluster))),
		egCluster(t, cluster, 10*time.Second, nil),
		egEndpoints(t, cluster,
			egBackend{weight: 1, hosts: []string{hosts["a"]}},
			egBackend{weight: 3, hosts: []string{hosts["b"]}, draining: []string{hosts["d"]}},
			egBackend{hosts: []string{hosts["c"]}}, // no weight
			egBackend{weight: 1, priority: 1, hosts: []string{hosts["p1"]}},
		),
	)
	counts := map[string]int{}
	for range 400 {
		got := e.do(t, request{host: "www.example.com", path: "/"})
		if got.status != 200 {
			t.Fatalf("GET / -> %d %q", got.status, got.body)
		}
		counts[got.body]++
	}
	// The locality schedule is exact to one pick whatever its random start.
	if counts["a"] < 99 || counts["a"] > 101 || counts["a"]+counts["b"] != 400 {
		t.Errorf("requests per backend %v, want a:100 b:300 (weights 1:3) and none elsewhere", counts)
	}
}

// Least request counts a host's requests in flight: while one request is
// held on one host, every other goes to the other host (FULL_SCAN makes
// the choice deterministic; Envoy Gateway's default samples two).
func TestEnvoyGatewayClusterLeastRequest(t *testing.T) {
	e := newEnv(t)
	release, started := make(chan struct{}), make(chan string, 1)
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	namedBackend(t, e, "a", "10.244.3.1:80", release, started)
	namedBackend(t, e, "b", "10.244.3.2:80", release, started)
	const cluster = "httproute/default/lr/rule/0"
	e.start(t,
		xdstest.Listener(t, port),
		xdstest.RouteConfig(port, xdstest.VirtualHost(port, "", xdstest.PrefixRoute("all", "/", cluster))),
		egCluster(t, cluster, 10*time.Second, &leastrequestv3.LeastRequest{SelectionMethod: leastrequestv3.LeastRequest_FULL_SCAN}),
		egEndpoints(t, cluster, egBackend{weight: 1, hosts: []string{"10.244.3.1:80", "10.244.3.2:80"}}),
	)
	slow := make(chan response, 1)
	go func() { slow <- e.do(t, request{host: "h", path: "/slow"}) }()
	busy := <-started
	counts := map[string]int{}
	for range 10 {
		counts[e.do(t, request{host: "h", path: "/"}).body]++
	}
	if counts[busy] != 0 || counts["a"]+counts["b"] != 10 {
		t.Errorf("with a request in flight on %s: %v, want all 10 on the other host", busy, counts)
	}
	once.Do(func() { close(release) })
	if got := <-slow; got.status != 200 || got.body != busy {
		t.Errorf("the held request -> %d %q", got.status, got.body)
	}
	// Nothing in flight: both hosts take requests again.
	counts = map[string]int{}
	for range 20 {
		counts[e.do(t, request{host: "h", path: "/"}).body]++
	}
	if counts["a"] == 0 || counts["b"] == 0 {
		t.Errorf("with nothing in flight: %v, want both hosts", counts)
	}
}

// fullListener is a loopback listener whose accept queue is full: the
// kernel drops new SYNs, so a connect to it neither succeeds nor fails
// until the connecting side gives up.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Skipf("socket: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.AddrPortFrom(netip.AddrFrom4(sa.(*syscall.SockaddrInet4).Addr), uint16(sa.(*syscall.SockaddrInet4).Port)).String()
	// Fill the queue: connections complete until it is full.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { _ = c.Close() })
		if i > 16 {
			t.Skip("the kernel keeps accepting connections on a listener with backlog 0")
		}
	}
	return addr
}

// connect_timeout bounds the dial: an endpoint that never answers the
// connect gets Envoy's 503 "connection timeout" once the cluster's timeout
// (here 300ms, well under the pod network's own 5s) has passed.
func TestEnvoyGatewayClusterConnectTimeout(t *testing.T) {
	e := newEnv(t)
	const blackhole = "10.244.4.1:80"
	if err := e.network.Add(blackhole, fullListener(t)); err != nil {
		t.Fatal(err)
	}
	const cluster = "httproute/default/blackhole/rule/0"
	e.start(t,
		xdstest.Listener(t, port),
		xdstest.RouteConfig(port, xdstest.VirtualHost(port, "", xdstest.PrefixRoute("all", "/", cluster))),
		egCluster(t, cluster, 300*time.Millisecond, nil),
		egEndpoints(t, cluster, egBackend{weight: 1, hosts: []string{blackhole}}),
	)
	start := time.Now()
	got := e.do(t, request{host: "h", path: "/"})
	took := time.Since(start)
	const want = "upstream connect error or disconnect/reset before headers. reset reason: connection timeout"
	if got.status != 503 || got.body != want {
		t.Errorf("-> %d %q, want 503 %q", got.status, got.body, want)
	}
	if took < 300*time.Millisecond || took > 3*time.Second {
		t.Errorf("answered after %v, want just after the 300ms connect timeout", took)
	}
}

// Clusters Envoy Gateway emits that the sim cannot honour are NACKed naming
// what they set, and the previous config keeps serving.
func TestEnvoyGatewayClusterNACK(t *testing.T) {
	e := newEnv(t)
	e.start(t, standard(t, xdstest.VirtualHost(port, "", xdstest.PrefixRoute("all", "/", clusterName)))...)
	bad := egCluster(t, clusterName, 10*time.Second, &leastrequestv3.LeastRequest{
		SlowStartConfig: &commonlbv3.SlowStartConfig{SlowStartWindow: durationpb.New(time.Minute)},
	})
	res := standard(t, xdstest.VirtualHost(port, "", xdstest.PrefixRoute("all", "/", clusterName)))
	res[2] = bad
	e.xds.Set(t, nodeID, "2", res...)
	nack := e.xds.WaitNACK(t, resource.ClusterType)
	if msg := nack.GetErrorDetail().GetMessage(); !strings.Contains(msg, "slow_start_config (slow start)") {
		t.Errorf("NACK %q, want it to name slow_start_config", msg)
	}
	if got := e.do(t, request{host: "h", path: "/status/200"}); got.status != 200 {
		t.Errorf("after the NACK -> %d, want the previous cluster to serve", got.status)
	}
}
