package xds

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"k8s.io/apimachinery/pkg/types"

	"github.com/keyconform/keyconform/controller/translate"
	"github.com/keyconform/keyconform/internal/xdstest"
)

// snapshotVersions reads the per-type versions the cache holds for node.
func snapshotVersions(t *testing.T, s *Server, node string) map[string]string {
	t.Helper()
	snap, err := s.cache.GetSnapshot(node)
	if err != nil {
		t.Fatalf("no snapshot for %s: %v", node, err)
	}
	out := map[string]string{}
	for _, typ := range []string{resource.ListenerType, resource.RouteType, resource.ClusterType, resource.EndpointType} {
		out[typ] = snap.GetVersion(typ)
	}
	return out
}

func TestVersionsChangeOnlyWithContent(t *testing.T) {
	base := newFixture("ns", "gw")
	cases := []struct {
		name    string
		mutate  func(f *proxyFixture)
		changed []string
	}{
		{"identical content", func(*proxyFixture) {}, nil},
		{"key rotated", func(f *proxyFixture) { f.credentials = map[string]string{"client1": "k-999", "client2": "k-456"} }, []string{resource.RouteType}},
		{"client added", func(f *proxyFixture) {
			f.credentials = map[string]string{"client1": "k-123", "client2": "k-456", "client3": "k-789"}
		}, []string{resource.RouteType}},
		{"connect timeout", func(f *proxyFixture) { f.timeout = time.Second }, []string{resource.ClusterType}},
		{"endpoint moved", func(f *proxyFixture) { f.endpointIP = "10.244.0.8" }, []string{resource.EndpointType}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(nil)
			node := translate.NodeID(base.gateway)
			publish(t, s, base.proxy(t))
			before := snapshotVersions(t, s, node)
			next := base
			tc.mutate(&next)
			publish(t, s, next.proxy(t))
			after := snapshotVersions(t, s, node)
			for typ, v := range after {
				want := !slices.Contains(tc.changed, typ)
				if (v == before[typ]) != want {
					t.Errorf("%s version %q -> %q; want changed=%v", typ, before[typ], v, !want)
				}
			}
		})
	}
}

// Two encodings of one message inside an Any (protobuf lets a producer
// repeat a scalar field; the last value wins) are one content: one version.
func TestVersionIgnoresAnyEncoding(t *testing.T) {
	f := newFixture("ns", "gw")
	a := f.proxy(t)
	b := f.proxy(t)
	once := xdstest.Any(t, &routev3.FilterConfig{Disabled: true})
	twice := xdstest.Any(t, &routev3.FilterConfig{Disabled: true})
	twice.Value = append(append([]byte{}, twice.Value...), twice.Value...)
	a.Routes[0].VirtualHosts[0].Routes[0].TypedPerFilterConfig["other"] = once
	b.Routes[0].VirtualHosts[0].Routes[0].TypedPerFilterConfig["other"] = twice

	_, va, _, err := buildSnapshot(a)
	if err != nil {
		t.Fatal(err)
	}
	_, vb, _, err := buildSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	if va != vb {
		t.Errorf("equal content, different versions: %+v vs %+v", va, vb)
	}
}

func TestInvalidProxyIsNotPublished(t *testing.T) {
	const key = "k-secret-value-0042"
	cases := []struct {
		name string
		// break_ spoils a valid proxy; wantIn are fragments the error
		// must contain (which resource, what).
		break_ func(t *testing.T, p *translate.Proxy)
		wantIn []string
	}{
		{
			name: "cluster connect timeout not positive (top-level rule)",
			break_: func(t *testing.T, p *translate.Proxy) {
				p.Clusters[0].ConnectTimeout = durationpb.New(0)
			},
			wantIn: []string{`Cluster "kube_default_httpbin_8000"`, "ConnectTimeout", "greater than 0s"},
		},
		{
			name: "credential without client (rule inside typed_per_filter_config)",
			break_: func(t *testing.T, p *translate.Proxy) {
				f := newFixture("ns", "gw")
				f.credentials = map[string]string{"": key}
				p.Routes[0] = f.route(t)
			},
			wantIn: []string{`RouteConfiguration "listener~8080".virtual_hosts[0].routes[0].typed_per_filter_config["envoy.filters.http.api_key_auth"](envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuthPerRoute)`, "Credential.Client"},
		},
		{
			name: "HCM without stat_prefix (rule inside a listener filter)",
			break_: func(t *testing.T, p *translate.Proxy) {
				p.Listeners[0].FilterChains[0].Filters[0].GetTypedConfig().Value = nil
			},
			wantIn: []string{`Listener "listener~8080".filter_chains[0].filters[0].typed_config(envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager)`, "StatPrefix"},
		},
		{
			name: "undecodable Any",
			break_: func(t *testing.T, p *translate.Proxy) {
				p.Listeners[0].FilterChains[0].Filters[0].GetTypedConfig().TypeUrl = "type.googleapis.com/no.such.Type"
			},
			wantIn: []string{`Listener "listener~8080"`, "cannot decode type.googleapis.com/no.such.Type"},
		},
		{
			name: "route configuration listed twice",
			break_: func(t *testing.T, p *translate.Proxy) {
				p.Routes = append(p.Routes, p.Routes[0])
			},
			wantIn: []string{`RouteConfiguration "listener~8080" is listed twice`},
		},
		{
			name: "listener names a route configuration that is missing (named like a key)",
			break_: func(t *testing.T, p *translate.Proxy) {
				f := newFixture("ns", "gw")
				f.credentials = map[string]string{"client1": key}
				p.Routes[0] = f.route(t)
				p.Listeners = append(p.Listeners, f.listener(t, key))
				p.Listeners[1].Name = "listener~9090"
			},
			wantIn: []string{"inconsistent snapshot", "[redacted]"},
		},
		{
			name: "nil resource",
			break_: func(t *testing.T, p *translate.Proxy) {
				p.Endpoints = append(p.Endpoints, nil)
			},
			wantIn: []string{"ClusterLoadAssignment #1 is nil"},
		},
		{
			name: "node id off convention",
			break_: func(t *testing.T, p *translate.Proxy) {
				p.NodeID = "gw.ns"
			},
			wantIn: []string{`node id "gw.ns"`, `"ns/gw"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(nil)
			good := newFixture("ns", "gw")
			other := newFixture("ns", "other")
			publish(t, s, good.proxy(t))
			before := snapshotVersions(t, s, "ns/gw")

			bad := good.proxy(t)
			tc.break_(t, &bad)
			err := s.Publish(context.Background(), []translate.Proxy{bad, other.proxy(t)})

			var pe *PublishError
			if !errors.As(err, &pe) || len(pe.Proxies) != 1 || pe.Proxies[0].Gateway != (types.NamespacedName{Namespace: "ns", Name: "gw"}) {
				t.Fatalf("want a PublishError for ns/gw only, got %v", err)
			}
			for _, want := range tc.wantIn {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%s", want, err)
				}
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error contains an API key value:\n%s", err)
			}
			if after := snapshotVersions(t, s, "ns/gw"); !maps.Equal(before, after) {
				t.Errorf("the rejected proxy replaced the snapshot: %v -> %v", before, after)
			}
			snapshotVersions(t, s, "ns/other") // published despite its neighbour
		})
	}
}

func TestDuplicateGatewayInOnePublish(t *testing.T) {
	s := NewServer(nil)
	f := newFixture("ns", "gw")
	err := s.Publish(context.Background(), []translate.Proxy{f.proxy(t), f.proxy(t)})
	if err == nil || !strings.Contains(err.Error(), "gateway ns/gw: listed twice") {
		t.Fatalf("want a listed-twice error, got %v", err)
	}
}

func TestRemovedGatewayWithoutDataPlaneIsCleared(t *testing.T) {
	s := NewServer(nil)
	f := newFixture("ns", "gw")
	publish(t, s, f.proxy(t))
	publish(t, s)
	if _, err := s.cache.GetSnapshot("ns/gw"); err == nil {
		t.Error("the snapshot of a removed Gateway is still cached")
	}
	if len(s.published) != 0 {
		t.Errorf("server still tracks %d nodes", len(s.published))
	}
}
