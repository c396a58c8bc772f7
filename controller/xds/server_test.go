package xds

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/keyconform/keyconform/controller/translate"
	"github.com/keyconform/keyconform/sim/xdsclient/xdsclienttest"
)

var allTypes = []string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType}

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor waits until typ holds exactly the named resources.
func waitFor(t *testing.T, c *xdsclienttest.Client, typ string, names ...string) xdsclienttest.State {
	t.Helper()
	st, err := c.Wait(waitCtx(t), typ, func(st xdsclienttest.State) bool {
		if st.Responses == 0 || len(st.Resources) != len(names) {
			return false
		}
		for _, n := range names {
			if st.Resources[n] == nil {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("%s never held %v: %v", typ, names, err)
	}
	return st
}

func waitForProxy(t *testing.T, c *xdsclienttest.Client) map[string]xdsclienttest.State {
	t.Helper()
	out := map[string]xdsclienttest.State{}
	out[resource.ClusterType] = waitFor(t, c, resource.ClusterType, clusterName)
	out[resource.EndpointType] = waitFor(t, c, resource.EndpointType, clusterName)
	out[resource.ListenerType] = waitFor(t, c, resource.ListenerType, listenerName)
	out[resource.RouteType] = waitFor(t, c, resource.RouteType, listenerName)
	return out
}

// connect publishes f's proxy and connects its data plane, returning once
// that holds the proxy, with what it received.
func connect(t *testing.T, s *Server, addr string, f proxyFixture) (*xdsclienttest.Client, map[string]xdsclienttest.State) {
	t.Helper()
	publish(t, s, f.proxy(t))
	c := xdsclienttest.Start(t, addr, translate.NodeID(f.gateway))
	return c, waitForProxy(t, c)
}

// waitForWatches waits until the server has processed the ACKs of all four
// types (each ACK reopens a watch), so that what is published next can only
// reach the client as a new response.
func waitForWatches(t *testing.T, s *Server, node string) {
	t.Helper()
	waitUntil(t, func() bool { return s.cache.GetStatusInfo(node).GetNumWatches() == len(allTypes) },
		"the server never had %d open watches for %s", len(allTypes), node)
}

// waitUntil polls cond until it holds, failing the test with the message
// after 10s.
func waitUntil(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	ctx := waitCtx(t)
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf(format, args...)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestADSServesThePublishedProxy(t *testing.T) {
	s, addr, _ := startServer(t)
	f := newFixture("kgateway-system", "http")
	// Publishing before the data plane connects and after both work.
	publish(t, s, f.proxy(t))
	c := xdsclienttest.Start(t, addr, "kgateway-system/http")
	other := xdsclienttest.Start(t, addr, "kgateway-system/other")
	got := waitForProxy(t, c)

	rc := got[resource.RouteType].Resources[listenerName].(*routev3.RouteConfiguration)
	perRoute := &apikeyauthv3.ApiKeyAuthPerRoute{}
	if err := rc.GetVirtualHosts()[0].GetRoutes()[0].GetTypedPerFilterConfig()[apiKeyAuthFilter].UnmarshalTo(perRoute); err != nil {
		t.Fatalf("route lacks its api_key_auth per-route config: %v", err)
	}
	if n := len(perRoute.GetCredentials()); n != 2 {
		t.Errorf("got %d credentials, want 2", n)
	}

	// Another node id sees nothing of this Gateway.
	if st := other.Current(resource.ListenerType); st.Responses != 0 {
		t.Errorf("node kgateway-system/other received %d listener responses", st.Responses)
	}
}

func TestRepublishSendsOnlyChangedTypes(t *testing.T) {
	s, addr, _ := startServer(t)
	f := newFixture("ns", "gw")
	node := translate.NodeID(f.gateway)
	c, first := connect(t, s, addr, f)
	waitForWatches(t, s, node)

	// Identical content, freshly built.
	publish(t, s, f.proxy(t))
	// A key rotation: only RDS changes.
	f.credentials = map[string]string{"client1": "k-rotated"}
	publish(t, s, f.proxy(t))
	routes, err := c.Wait(waitCtx(t), resource.RouteType, func(st xdsclienttest.State) bool {
		return st.Version != first[resource.RouteType].Version
	})
	if err != nil {
		t.Fatal(err)
	}
	if routes.Responses != 2 {
		t.Errorf("RDS responses: got %d, want 2 (initial + rotation)", routes.Responses)
	}
	// The stream is ordered: a response caused by the identical publish
	// would have arrived before the rotation's.
	for _, typ := range []string{resource.ClusterType, resource.EndpointType, resource.ListenerType} {
		st := c.Current(typ)
		if st.Responses != 1 || st.Version != first[typ].Version {
			t.Errorf("%s: %d responses, version %q -> %q; want 1 response and no change",
				typ, st.Responses, first[typ].Version, st.Version)
		}
	}
}

func TestRemovedGatewayEmptiesItsConnectedDataPlane(t *testing.T) {
	s, addr, _ := startServer(t)
	f := newFixture("ns", "gw")
	node := translate.NodeID(f.gateway)
	c, _ := connect(t, s, addr, f)

	publish(t, s)
	waitFor(t, c, resource.ListenerType)
	waitFor(t, c, resource.ClusterType)

	// The Gateway comes back: the same stream is served again.
	publish(t, s, f.proxy(t))
	waitForProxy(t, c)

	// Once removed and disconnected, the node is forgotten.
	publish(t, s)
	waitFor(t, c, resource.ListenerType)
	c.Close()
	waitUntil(t, func() bool { _, err := s.cache.GetSnapshot(node); return err != nil },
		"the empty snapshot outlived the last stream of a removed Gateway")
}

func TestStreamEventsAreLoggedWithoutKeys(t *testing.T) {
	s, addr, logs := startServer(t)
	f := newFixture("ns", "gw")
	node := translate.NodeID(f.gateway)
	c, _ := connect(t, s, addr, f)
	waitForWatches(t, s, node)

	// A data plane rejects the next cluster configuration with a message
	// quoting keys (Envoy does not; the server must not trust that). The
	// sim's client scrubs only values found in what it rejects, and a
	// cluster holds none, so the message reaches the server as written.
	// Both the key now served (k-789) and the rotated-out one (k-123) are
	// redacted: the NACK may concern the configuration before.
	c.NackNext(resource.ClusterType, "duplicate key k-789 (was k-123): "+strings.Repeat("x", 4*maxDetail))
	f.credentials = map[string]string{"client3": "k-789"}
	f.timeout = time.Second
	publish(t, s, f.proxy(t))
	waitUntil(t, func() bool { return strings.Contains(logs.String(), "xDS NACK") }, "no NACK logged:\n%s", logs)
	// The rejected version is not sent again; the next change is.
	waitForWatches(t, s, node)
	if st := c.Current(resource.ClusterType); st.Responses != 2 {
		t.Errorf("CDS responses after a NACK: %d, want 2 (the rejected one is not re-sent)", st.Responses)
	}
	f.timeout = 2 * time.Second
	publish(t, s, f.proxy(t))
	if _, err := c.Wait(waitCtx(t), resource.ClusterType, func(st xdsclienttest.State) bool { return st.Responses == 3 }); err != nil {
		t.Fatalf("no configuration after the NACKed one: %v", err)
	}

	c.Close()
	waitUntil(t, func() bool { return strings.Contains(logs.String(), "xDS stream closed") }, "no stream close logged:\n%s", logs)

	out := logs.String()
	for _, want := range []string{
		`"msg":"xDS stream opened"`,
		`"msg":"xDS ACK"`,
		`"error_detail":"duplicate key [redacted] (was [redacted]): xxx`,
		`…(truncated)"`,
		`"node":"ns/gw"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	for _, key := range []string{"k-123", "k-456", "k-789"} {
		if strings.Contains(out, key) {
			t.Errorf("logs contain the key %s", key)
		}
	}
	nack := lineWith(out, "xDS NACK")
	if !strings.Contains(nack, `"level":"WARN"`) || !strings.Contains(nack, `"rejected_version":"`) || strings.Contains(nack, `"rejected_version":""`) {
		t.Errorf("NACK line lacks level WARN or the rejected version: %s", nack)
	}
}

func lineWith(logs, s string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestServeStopsWhenItsContextEnds(t *testing.T) {
	s := NewServer(nil)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, lis) }()

	c, _ := connect(t, s, lis.Addr().String(), newFixture("ns", "gw"))

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v after its context ended; want nil", err)
		}
	case <-time.After(gracePeriod + 5*time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	waitUntil(t, func() bool { return !c.Connected() }, "the client's stream outlived the server")
}
