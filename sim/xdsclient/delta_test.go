package xdsclient

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/internal/xdstest"
)

type deltaRequest = discoveryv3.DeltaDiscoveryRequest

func anyRequest(int, *deltaRequest) bool { return true }

// waitDeltaRequest waits for a delta request of typeURL that satisfies match.
func waitDeltaRequest(t *testing.T, srv *xdstest.Server, typeURL, what string, match func(stream int, r *deltaRequest) bool) *deltaRequest {
	t.Helper()
	return xdstest.WaitMessage(t, srv, what, func(stream int, r *deltaRequest) bool {
		return r.GetTypeUrl() == typeURL && match(stream, r)
	})
}

func resourceNames(resp *discoveryv3.DeltaDiscoveryResponse) []string {
	var names []string
	for _, r := range resp.GetResources() {
		names = append(names, r.GetName())
	}
	return slices.Sorted(slices.Values(names))
}

// routingTypes are the types the fixtures below serve: no listener of
// theirs asks for a secret.
var routingTypes = []string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType}

func TestDeltaWildcardAndNamedSubscriptions(t *testing.T) {
	srv := xdstest.Start(t)
	srv.Set(t, node, "v1", xdstest.Cluster("backend"), xdstest.Endpoints(t, "backend", "10.0.0.1:8080"),
		xdstest.Listener(t, 8080), xdstest.RouteConfig(8080))
	_, rec := startClient(t, Options{ServerAddress: srv.Addr(), Delta: true})

	want := map[string][]string{
		resource.ClusterType:  {"backend"},
		resource.EndpointType: {"backend"},
		resource.ListenerType: {"listener~8080"},
		resource.RouteType:    {"listener~8080"},
	}
	for _, typeURL := range routingTypes {
		rec.waitState(t, typeURL, "v1", want[typeURL]...)
		ack := waitDeltaRequest(t, srv, typeURL, "ACK", func(_ int, r *deltaRequest) bool { return r.GetResponseNonce() != "" })
		if ack.GetErrorDetail() != nil {
			t.Errorf("%s: first answer is a NACK: %v", typeURL, ack.GetErrorDetail())
		}

		first := waitDeltaRequest(t, srv, typeURL, "first request", anyRequest)
		wantSubscribe := want[typeURL]
		if typeURL == resource.ClusterType || typeURL == resource.ListenerType {
			wantSubscribe = nil // legacy wildcard: no names at all
		}
		if !slices.Equal(first.GetResourceNamesSubscribe(), wantSubscribe) || len(first.GetResourceNamesUnsubscribe()) > 0 ||
			first.GetResponseNonce() != "" || len(first.GetInitialResourceVersions()) > 0 {
			t.Errorf("%s: first request subscribe %q unsubscribe %q nonce %q initial %v, want subscribe %q only",
				typeURL, first.GetResourceNamesSubscribe(), first.GetResourceNamesUnsubscribe(), first.GetResponseNonce(), first.GetInitialResourceVersions(), wantSubscribe)
		}
	}
}

func TestDeltaUpdatesReachHandlerAsFullState(t *testing.T) {
	srv := xdstest.Start(t)
	srv.Set(t, node, "v1", xdstest.Cluster("a"), xdstest.Cluster("b"),
		xdstest.Endpoints(t, "a", "10.0.0.1:8080"), xdstest.Endpoints(t, "b", "10.0.0.2:8080"),
		xdstest.Listener(t, 8080), xdstest.Listener(t, 9090), xdstest.RouteConfig(8080), xdstest.RouteConfig(9090))
	_, rec := startClient(t, Options{ServerAddress: srv.Addr(), Delta: true})
	rec.waitState(t, resource.EndpointType, "v1", "a", "b")
	rec.waitState(t, resource.RouteType, "v1", "listener~8080", "listener~9090")

	// v2 moves a's endpoint, replaces listener 9090 by 7070 and leaves the
	// rest alone: the server sends only that, the handler gets every
	// resource of each type.
	srv.Set(t, node, "v2", xdstest.Cluster("a"), xdstest.Cluster("b"),
		xdstest.Endpoints(t, "a", "10.0.0.9:8080"), xdstest.Endpoints(t, "b", "10.0.0.2:8080"),
		xdstest.Listener(t, 8080), xdstest.Listener(t, 7070), xdstest.RouteConfig(8080), xdstest.RouteConfig(7070))

	eds := rec.waitState(t, resource.EndpointType, "v2", "a", "b")
	if got := eds["a"].(*endpointv3.ClusterLoadAssignment).GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetAddress(); got != "10.0.0.9" {
		t.Errorf("endpoint a at v2 is %s, want the upserted 10.0.0.9", got)
	}
	rec.waitState(t, resource.ListenerType, "v2", "listener~7070", "listener~8080")
	rec.waitState(t, resource.RouteType, "v2", "listener~7070", "listener~8080")

	for _, tt := range []struct {
		typeURL              string
		wantSent, wantRemove []string
	}{
		{resource.EndpointType, []string{"a"}, nil},
		{resource.ListenerType, []string{"listener~7070"}, []string{"listener~9090"}},
	} {
		resp := xdstest.WaitMessage(t, srv, tt.typeURL+" v2 response", func(_ int, r *discoveryv3.DeltaDiscoveryResponse) bool {
			return r.GetTypeUrl() == tt.typeURL && r.GetSystemVersionInfo() == "v2"
		})
		if got := resourceNames(resp); !slices.Equal(got, tt.wantSent) || !slices.Equal(resp.GetRemovedResources(), tt.wantRemove) {
			t.Errorf("%s v2 response sent %q removed %q, want %q and %q", tt.typeURL, got, resp.GetRemovedResources(), tt.wantSent, tt.wantRemove)
		}
	}
}

func TestDeltaNACKRollsBack(t *testing.T) {
	srv := xdstest.Start(t)
	srv.Set(t, node, "v1", xdstest.Listener(t, 8080), xdstest.RouteConfig(8080))
	_, rec := startClient(t, Options{ServerAddress: srv.Addr(), Delta: true})
	rec.waitState(t, resource.ListenerType, "v1", "listener~8080")

	srv.Set(t, node, "v2", xdstest.Listener(t, 8080), xdstest.RouteConfig(8080), badListener(t))
	resp := xdstest.WaitMessage(t, srv, "LDS v2 response", func(_ int, r *discoveryv3.DeltaDiscoveryResponse) bool {
		return r.GetTypeUrl() == resource.ListenerType && r.GetSystemVersionInfo() == "v2"
	})
	nack := waitDeltaRequest(t, srv, resource.ListenerType, "NACK", func(_ int, r *deltaRequest) bool { return r.GetErrorDetail() != nil })
	if nack.GetResponseNonce() != resp.GetNonce() || nack.GetErrorDetail().GetCode() != 13 ||
		!strings.Contains(nack.GetErrorDetail().GetMessage(), `listener "bad~1": invalid`) {
		t.Fatalf("NACK nonce %q (response %q) code %d detail %q", nack.GetResponseNonce(), resp.GetNonce(), nack.GetErrorDetail().GetCode(), nack.GetErrorDetail().GetMessage())
	}

	// The server takes bad~1 as delivered and, at v3, sends only the new
	// listener: the handler must get the set as it was before v2 plus that
	// listener, not the rejected bad~1 again.
	srv.Set(t, node, "v3", xdstest.Listener(t, 8080), xdstest.Listener(t, 9090), xdstest.RouteConfig(8080), xdstest.RouteConfig(9090), badListener(t))
	rec.waitState(t, resource.ListenerType, "v3", "listener~8080", "listener~9090")
	resp = xdstest.WaitMessage(t, srv, "LDS v3 response", func(_ int, r *discoveryv3.DeltaDiscoveryResponse) bool {
		return r.GetTypeUrl() == resource.ListenerType && r.GetSystemVersionInfo() == "v3"
	})
	if got := resourceNames(resp); !slices.Equal(got, []string{"listener~9090"}) {
		t.Fatalf("v3 response sent %q; the test relies on it sending only listener~9090", got)
	}
}

func TestNACKDetailIsScrubbed(t *testing.T) {
	const key = "k-123-secret"
	for _, delta := range []bool{false, true} {
		t.Run(wireName(delta), func(t *testing.T) {
			srv := xdstest.Start(t)
			vh := xdstest.VirtualHost(8080, "")
			vh.TypedPerFilterConfig = map[string]*anypb.Any{
				"envoy.filters.http.api_key_auth": xdstest.APIKeyAuth(t, map[string]string{"client1": key}, true, "", "header:api-key"),
			}
			srv.Set(t, node, "v1", xdstest.Listener(t, 8080), xdstest.RouteConfig(8080, vh))
			rec := newRecorder()
			rec.reject = func(m proto.Message) error {
				if rc, ok := m.(*routev3.RouteConfiguration); ok {
					return fmt.Errorf("route configuration %q: duplicate api key %q", rc.GetName(), key)
				}
				return nil
			}
			startClient(t, Options{ServerAddress: srv.Addr(), Delta: delta, Handler: rec})

			nack := xdstest.WaitMessage(t, srv, "RDS NACK", func(_ int, r xdstest.Request) bool {
				return r.GetTypeUrl() == resource.RouteType && r.GetErrorDetail() != nil
			})
			msg := nack.GetErrorDetail().GetMessage()
			if strings.Contains(msg, key) || !strings.Contains(msg, `duplicate api key "[redacted]"`) {
				t.Fatalf("NACK detail %q", strings.ReplaceAll(msg, key, "<KEY>"))
			}
		})
	}
}

func TestDeltaSubscribeAndUnsubscribe(t *testing.T) {
	srv := xdstest.Start(t)
	routes := []types.Resource{xdstest.RouteConfig(8080), xdstest.RouteConfig(9090)}
	srv.Set(t, node, "v1", append(routes, xdstest.Listener(t, 8080), xdstest.Listener(t, 9090))...)
	_, rec := startClient(t, Options{ServerAddress: srv.Addr(), Delta: true})
	rec.waitState(t, resource.RouteType, "v1", "listener~8080", "listener~9090")
	waitDeltaRequest(t, srv, resource.RouteType, "subscription of both", func(_ int, r *deltaRequest) bool {
		return slices.Equal(r.GetResourceNamesSubscribe(), []string{"listener~8080", "listener~9090"})
	})

	// Listener 9090 goes, its route configuration stays: the client
	// unsubscribes from it and stops handing it to the handler, though no
	// server says it was removed.
	srv.Set(t, node, "v2", append(routes, xdstest.Listener(t, 8080))...)
	unsub := waitDeltaRequest(t, srv, resource.RouteType, "unsubscription", func(_ int, r *deltaRequest) bool {
		return len(r.GetResourceNamesUnsubscribe()) > 0
	})
	if !slices.Equal(unsub.GetResourceNamesUnsubscribe(), []string{"listener~9090"}) || len(unsub.GetResourceNamesSubscribe()) > 0 {
		t.Fatalf("request subscribe %q unsubscribe %q, want only unsubscribe listener~9090", unsub.GetResourceNamesSubscribe(), unsub.GetResourceNamesUnsubscribe())
	}
	changed := xdstest.RouteConfig(8080, xdstest.VirtualHost(8080, "example.com"))
	srv.Set(t, node, "v3", changed, xdstest.RouteConfig(9090), xdstest.Listener(t, 8080))
	rec.waitState(t, resource.RouteType, "v3", "listener~8080")

	// Subscribing again brings it back.
	srv.Set(t, node, "v4", changed, xdstest.RouteConfig(9090), xdstest.Listener(t, 8080), xdstest.Listener(t, 9090))
	rec.waitState(t, resource.RouteType, "v4", "listener~8080", "listener~9090")
	waitDeltaRequest(t, srv, resource.RouteType, "subscription again", func(_ int, r *deltaRequest) bool {
		return slices.Equal(r.GetResourceNamesSubscribe(), []string{"listener~9090"}) && len(r.GetResourceNamesUnsubscribe()) == 0
	})
}

func TestDeltaReconnectSendsInitialResourceVersions(t *testing.T) {
	srv := xdstest.Start(t)
	srv.Set(t, node, "v1", xdstest.Cluster("backend"), xdstest.Endpoints(t, "backend", "10.0.0.1:8080"),
		xdstest.Listener(t, 8080), xdstest.RouteConfig(8080))
	c, rec := startClient(t, Options{ServerAddress: srv.Addr(), Delta: true})
	for _, typeURL := range routingTypes {
		rec.waitVersion(t, typeURL, "v1")
	}
	// What the first stream delivered, by type: name -> version.
	delivered := map[string]map[string]string{}
	for _, resp := range xdstest.Recorded[*discoveryv3.DeltaDiscoveryResponse](srv) {
		for _, r := range resp.GetResources() {
			if delivered[resp.GetTypeUrl()] == nil {
				delivered[resp.GetTypeUrl()] = map[string]string{}
			}
			delivered[resp.GetTypeUrl()][r.GetName()] = r.GetVersion()
		}
	}

	srv.Stop()
	waitFor(t, "disconnected", func() bool { return !c.Connected() })
	srv.Restart(t)
	srv.Set(t, node, "v2", xdstest.Cluster("backend"), xdstest.Endpoints(t, "backend", "10.0.0.1:8080"),
		xdstest.Listener(t, 8080), xdstest.Listener(t, 9090), xdstest.RouteConfig(8080), xdstest.RouteConfig(9090))
	rec.waitState(t, resource.ListenerType, "v2", "listener~8080", "listener~9090")
	rec.waitState(t, resource.RouteType, "v2", "listener~8080", "listener~9090")

	for _, typeURL := range routingTypes {
		first := waitDeltaRequest(t, srv, typeURL, "first request on the new stream", func(stream int, _ *deltaRequest) bool { return stream > 1 })
		wantSubscribe := slices.Sorted(maps.Keys(delivered[typeURL]))
		if typeURL == resource.ClusterType || typeURL == resource.ListenerType {
			wantSubscribe = nil
		}
		if len(delivered[typeURL]) != 1 || !maps.Equal(first.GetInitialResourceVersions(), delivered[typeURL]) ||
			!slices.Equal(first.GetResourceNamesSubscribe(), wantSubscribe) || first.GetResponseNonce() != "" {
			t.Errorf("%s: first request on the new stream: initial versions %v subscribe %q nonce %q; want %v, %q and no nonce",
				typeURL, first.GetInitialResourceVersions(), first.GetResourceNamesSubscribe(), first.GetResponseNonce(), delivered[typeURL], wantSubscribe)
		}
	}
}

// TestDeltaResolve covers what go-control-plane's cache never sends:
// heartbeats, malformed responses, resources not subscribed to.
func TestDeltaResolve(t *testing.T) {
	route := func(name, version string) *discoveryv3.Resource {
		return &discoveryv3.Resource{Name: name, Version: version, Resource: xdstest.Any(t, &routev3.RouteConfiguration{Name: name})}
	}
	heldA := route("a", "1")
	tests := []struct {
		name      string
		resources []*discoveryv3.Resource
		removed   []string
		want      []string // names handed to the Handler
		wantErr   string
	}{
		{name: "upsert and remove", resources: []*discoveryv3.Resource{route("a", "2"), route("c", "1")}, removed: []string{"b"}, want: []string{"a", "c"}},
		{name: "removal of a name not held", removed: []string{"z"}, want: []string{"a", "b"}},
		{name: "heartbeat of a held version", resources: []*discoveryv3.Resource{{Name: "a", Version: "1"}}, want: []string{"a", "b"}},
		{name: "no body, other version", resources: []*discoveryv3.Resource{{Name: "a", Version: "2"}}, wantErr: `resource "a" has no body and is not a heartbeat`},
		{name: "no body, not held", resources: []*discoveryv3.Resource{{Name: "c", Version: "1"}}, wantErr: `resource "c" has no body`},
		{name: "name twice", resources: []*discoveryv3.Resource{route("c", "1"), route("c", "2")}, wantErr: `duplicate name "c" found among added/updated`},
		{name: "added and removed", resources: []*discoveryv3.Resource{route("c", "1")}, removed: []string{"c"}, wantErr: `duplicate name "c" found in the union`},
		{name: "body of another type", resources: []*discoveryv3.Resource{{Name: "c", Resource: xdstest.Any(t, &listenerv3.Listener{Name: "c"})}}, wantErr: "is of type type.googleapis.com/envoy.config.listener.v3.Listener"},
		{name: "not subscribed", resources: []*discoveryv3.Resource{route("x", "1")}, want: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &subscription{
				names:     []string{"a", "b", "c"},
				announced: []string{"a", "b", "c"},
				held:      map[string]*discoveryv3.Resource{"a": heldA, "b": route("b", "1")},
			}
			before := maps.Clone(s.held)
			resp := deltaResponse{&discoveryv3.DeltaDiscoveryResponse{TypeUrl: resource.RouteType, Resources: tt.resources, RemovedResources: tt.removed}}
			got, held, err := resp.resolve(s)
			if !maps.Equal(s.held, before) {
				t.Errorf("resolve changed the held set to %v", slices.Sorted(maps.Keys(s.held)))
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, a := range got {
				m, err := a.UnmarshalNew()
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, m.(*routev3.RouteConfiguration).GetName())
			}
			if !slices.Equal(names, tt.want) || !slices.Equal(slices.Sorted(maps.Keys(held)), tt.want) {
				t.Errorf("handler gets %q, held %q; want %q", names, slices.Sorted(maps.Keys(held)), tt.want)
			}
		})
	}
}
