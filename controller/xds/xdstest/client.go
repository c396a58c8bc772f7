// Package xdstest is an ADS client for tests: it subscribes the way Envoy
// does (CDS and LDS by wildcard, then EDS and RDS by the names those
// reference), ACKs every response unless told to NACK one, and lets a test
// wait for a state. It only dials loopback addresses.
package xdstest

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// State is the last configuration of one type the client accepted.
type State struct {
	Version   string
	Resources map[string]proto.Message
	// Responses counts every response of this type received, accepted or not.
	Responses int
}

// Client is one data plane's ADS stream.
type Client struct {
	conn   *grpc.ClientConn
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	state   map[string]*State
	nonces  map[string]string
	names   map[string][]string
	nack    map[string]string
	changed chan struct{}
	err     error
}

// Dial opens an ADS stream to addr (a loopback host:port) as node nodeID.
func Dial(ctx context.Context, addr, nodeID string) (*Client, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("xDS address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("xDS address %q: only loopback IP addresses may be dialled", addr)
	}
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("dialling %s: %w", addr, err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(sctx)
	if err != nil {
		cancel()
		conn.Close()
		return nil, fmt.Errorf("opening the ADS stream: %w", err)
	}
	c := &Client{
		conn: conn, stream: stream, cancel: cancel, done: make(chan struct{}),
		state:   map[string]*State{},
		nonces:  map[string]string{},
		names:   map[string][]string{},
		nack:    map[string]string{},
		changed: make(chan struct{}),
	}
	node := &corev3.Node{Id: nodeID}
	for _, typ := range []string{resource.ClusterType, resource.ListenerType} {
		if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typ}); err != nil {
			c.Close()
			return nil, fmt.Errorf("subscribing to %s: %w", typ, err)
		}
	}
	go c.receive()
	return c, nil
}

// Close ends the stream and the connection.
func (c *Client) Close() {
	c.cancel()
	<-c.done
	c.conn.Close()
}

// NackNext makes the client reject the next response of typeURL with
// message as error_detail, as a data plane does with a configuration it
// cannot load.
func (c *Client) NackNext(typeURL, message string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nack[typeURL] = message
}

// Wait returns the state of typeURL once cond holds for it, or an error
// when ctx ends or the stream fails first.
func (c *Client) Wait(ctx context.Context, typeURL string, cond func(State) bool) (State, error) {
	for {
		c.mu.Lock()
		st := c.snapshot(typeURL)
		changed, err := c.changed, c.err
		c.mu.Unlock()
		if cond(st) {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("ADS stream ended: %w", err)
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("waiting for %s (last version %q, %d responses): %w", typeURL, st.Version, st.Responses, ctx.Err())
		case <-changed:
		}
	}
}

// Current returns the state of typeURL now.
func (c *Client) Current(typeURL string) State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshot(typeURL)
}

func (c *Client) snapshot(typeURL string) State {
	st := c.state[typeURL]
	if st == nil {
		return State{}
	}
	return State{Version: st.Version, Resources: maps.Clone(st.Resources), Responses: st.Responses}
}

func (c *Client) receive() {
	defer close(c.done)
	for {
		resp, err := c.stream.Recv()
		if err == nil {
			err = c.handle(resp)
		}
		if err != nil {
			c.mu.Lock()
			c.err = err
			close(c.changed)
			c.changed = make(chan struct{})
			c.mu.Unlock()
			return
		}
	}
}

// handle records one response and answers it. Only this goroutine sends
// after Dial, as gRPC streams need.
func (c *Client) handle(resp *discoveryv3.DiscoveryResponse) error {
	typ := resp.GetTypeUrl()
	resources := make(map[string]proto.Message, len(resp.GetResources()))
	for _, a := range resp.GetResources() {
		m, err := a.UnmarshalNew()
		if err != nil {
			return fmt.Errorf("decoding a %s resource: %w", typ, err)
		}
		resources[cachev3.GetResourceName(m)] = m
	}

	c.mu.Lock()
	st := c.state[typ]
	if st == nil {
		st = &State{}
		c.state[typ] = st
	}
	st.Responses++
	nack, rejecting := c.nack[typ]
	delete(c.nack, typ)
	ack := &discoveryv3.DiscoveryRequest{TypeUrl: typ, ResponseNonce: resp.GetNonce(), ResourceNames: c.names[typ]}
	var follow *discoveryv3.DiscoveryRequest
	if rejecting {
		ack.ErrorDetail = &status.Status{Code: 3, Message: nack}
	} else {
		st.Version, st.Resources = resp.GetVersionInfo(), resources
		if dep, names := dependents(typ, resources); dep != "" && len(names) > 0 && !slices.Equal(names, c.names[dep]) {
			c.names[dep] = names
			var version string
			if d := c.state[dep]; d != nil {
				version = d.Version
			}
			follow = &discoveryv3.DiscoveryRequest{TypeUrl: dep, VersionInfo: version, ResponseNonce: c.nonces[dep], ResourceNames: names}
		}
	}
	ack.VersionInfo = st.Version
	c.nonces[typ] = resp.GetNonce()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()

	if err := c.stream.Send(ack); err != nil {
		return fmt.Errorf("answering a %s response: %w", typ, err)
	}
	if follow != nil {
		if err := c.stream.Send(follow); err != nil {
			return fmt.Errorf("subscribing to %s: %w", follow.TypeUrl, err)
		}
	}
	return nil
}

// dependents returns the type and sorted names a CDS or LDS response makes
// the client subscribe to, as Envoy does: EDS for EDS clusters, RDS for the
// route configurations the HTTP connection managers name.
func dependents(typ string, resources map[string]proto.Message) (string, []string) {
	var names []string
	switch typ {
	case resource.ClusterType:
		for name, m := range resources {
			cl := m.(*clusterv3.Cluster)
			if cl.GetType() != clusterv3.Cluster_EDS {
				continue
			}
			if sn := cl.GetEdsClusterConfig().GetServiceName(); sn != "" {
				name = sn
			}
			names = append(names, name)
		}
		typ = resource.EndpointType
	case resource.ListenerType:
		for _, m := range resources {
			for _, fc := range m.(*listenerv3.Listener).GetFilterChains() {
				for _, f := range fc.GetFilters() {
					hcm := &hcmv3.HttpConnectionManager{}
					if f.GetTypedConfig().MessageIs(hcm) && f.GetTypedConfig().UnmarshalTo(hcm) == nil && hcm.GetRds() != nil {
						names = append(names, hcm.GetRds().GetRouteConfigName())
					}
				}
			}
		}
		typ = resource.RouteType
	default:
		return "", nil
	}
	slices.Sort(names)
	return typ, slices.Compact(names)
}
