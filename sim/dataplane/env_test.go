package dataplane_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"

	"github.com/keyconform/keyconform/internal/xdstest"
	"github.com/keyconform/keyconform/sim/dataplane"
	"github.com/keyconform/keyconform/sim/httpbin"
	"github.com/keyconform/keyconform/sim/podnet"
	"github.com/keyconform/keyconform/sim/xdsclient"
)

const (
	nodeID      = "kgateway-system/http"
	port        = 8080
	port2       = 8081
	clusterName = "kube_httpbin_httpbin_8000"
	podAddr     = "10.244.0.10:8000"
)

// env is a control plane, the sim and go-httpbin, all on loopback.
type env struct {
	xds     *xdstest.Server
	proxy   *dataplane.Proxy
	network *podnet.Network
	client  *http.Client
}

func newEnv(t testing.TB) *env {
	t.Helper()
	backend, err := httpbin.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = backend.Close() })
	network := podnet.New()
	if err := network.Add(podAddr, backend.Addr()); err != nil {
		t.Fatal(err)
	}
	e := &env{
		xds:     xdstest.Start(t),
		network: network,
		client:  &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 20 * time.Second},
	}
	e.proxy, err = dataplane.New(dataplane.Options{
		XDS: xdsclient.Options{
			ServerAddress: e.xds.Addr(), NodeID: nodeID,
			InitialBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		},
		Network:         network,
		Logger:          slog.New(slog.NewTextHandler(t.Output(), nil)),
		ListenOverrides: map[uint32]string{port: "127.0.0.1:0", port2: "127.0.0.1:0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.proxy.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return e
}

// start serves the snapshot and waits for the proxy to be LIVE.
func (e *env) start(t testing.TB, resources ...types.Resource) {
	t.Helper()
	e.xds.Set(t, nodeID, "1", resources...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.proxy.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

// standard is the translator's resources for one listener with the given
// virtual hosts, routing to httpbin through the simulated pod network.
func standard(t testing.TB, vhosts ...*routev3.VirtualHost) []types.Resource {
	return []types.Resource{
		xdstest.Listener(t, port),
		xdstest.RouteConfig(port, vhosts...),
		xdstest.Cluster(clusterName),
		xdstest.Endpoints(t, clusterName, podAddr),
	}
}

type request struct {
	port               uint32 // 8080 when zero
	method, host, path string
	headers            map[string]string
}

type response struct {
	status int
	header http.Header
	body   string
	echoed echo // what httpbin received, for 200s from /anything
}

type echo struct {
	Args    map[string][]string `json:"args"`
	Headers map[string][]string `json:"headers"`
	URL     string              `json:"url"`
}

func (e echo) header(name string) string {
	return strings.Join(e.Headers[http.CanonicalHeaderKey(name)], ",")
}

func (e *env) do(t *testing.T, r request) response {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	p := r.port
	if p == 0 {
		p = port
	}
	addr, ok := e.proxy.ListenerAddr(p)
	if !ok {
		t.Fatalf("listener %d is not bound", p)
	}
	req, err := http.NewRequest(method, "http://"+addr+r.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = r.host
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if resp.StatusCode == 200 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(b, &out.echoed)
	}
	return out
}

// keyedRequest is a GET of path on host h with key in the api-key header,
// and the status it must get.
type keyedRequest struct {
	path, key string
	want      int
}

func (e *env) expectStatuses(t *testing.T, reqs []keyedRequest) {
	t.Helper()
	for i, r := range reqs {
		got := e.do(t, request{host: "h", path: r.path, headers: map[string]string{"api-key": r.key}})
		if got.status != r.want {
			// Keys stay out of failure messages; the index names the case.
			t.Errorf("request %d, %s (key set: %t) -> %d, want %d", i, r.path, r.key != "", got.status, r.want)
		}
	}
}

// eventually retries check until it passes or 10s elapse.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statValue(p *dataplane.Proxy, name string) uint64 {
	for _, s := range p.Stats() {
		if s.Name == name {
			return s.Value
		}
	}
	return 0
}
