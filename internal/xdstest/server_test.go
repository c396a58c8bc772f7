package xdstest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestServerRecordsTheWire checks that requests are recorded as the client
// sent them (a node left out stays out, though go-control-plane fills it
// in for itself), that responses are recorded too, and that Request sees
// requests only.
func TestServerRecordsTheWire(t *testing.T) {
	const node = "test-node"
	srv := Start(t)
	srv.Set(t, node, "v1", Listener(t, 8080))

	for _, delta := range []bool{false, true} {
		conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
		if delta {
			stream, err := ads.DeltaAggregatedResources(ctx)
			if err != nil {
				t.Fatal(err)
			}
			send(t, stream.Send(&discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: node}, TypeUrl: resource.ListenerType}))
			resp, err := stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			send(t, stream.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ListenerType, ResponseNonce: resp.GetNonce()}))
			ack := WaitMessage(t, srv, "delta ACK", func(_ int, r *discoveryv3.DeltaDiscoveryRequest) bool { return r.GetResponseNonce() != "" })
			if ack.GetNode() != nil {
				t.Error("the delta ACK was recorded with a node the client did not send")
			}
		} else {
			stream, err := ads.StreamAggregatedResources(ctx)
			if err != nil {
				t.Fatal(err)
			}
			send(t, stream.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: node}, TypeUrl: resource.ListenerType}))
			resp, err := stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			send(t, stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resource.ListenerType, VersionInfo: "v1", ResponseNonce: resp.GetNonce()}))
			srv.WaitACK(t, resource.ListenerType, "v1")
			if srv.Requests()[1].GetNode() != nil {
				t.Error("the SotW ACK was recorded with a node the client did not send")
			}
		}
	}

	var got []string
	for _, m := range srv.Messages() {
		_, request := m.Msg.(Request)
		got = append(got, fmt.Sprintf("%d %s request=%t", m.Stream, m.Msg.ProtoReflect().Descriptor().Name(), request))
	}
	want := []string{
		"1 DiscoveryRequest request=true", "1 DiscoveryResponse request=false", "1 DiscoveryRequest request=true",
		"2 DeltaDiscoveryRequest request=true", "2 DeltaDiscoveryResponse request=false", "2 DeltaDiscoveryRequest request=true",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("recorded %q, want %q", got, want)
	}
	if n := len(Recorded[Request](srv)); n != 4 {
		t.Errorf("Recorded[Request] holds %d messages, want the 4 requests", n)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("Requests holds %d messages, want the 2 SotW requests", n)
	}
}

func send(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
