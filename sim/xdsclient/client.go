// Package xdsclient is a small ADS (aggregated, state-of-the-world) xDS
// client over gRPC, as Envoy runs one: it subscribes to clusters and
// listeners (wildcard) and to the endpoints and route configurations it is
// told to, hands each response to a Handler, ACKs what the handler accepts
// and NACKs what it rejects (with an error detail, keeping the last accepted
// version), and reconnects with backoff while the data plane keeps serving.
//
// go-control-plane's pkg/client/sotw/v3 handles one type URL per stream with
// no resource names, which cannot drive LDS+RDS+CDS+EDS over one ADS stream,
// hence this client.
package xdsclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/anypb"
)

// Handler applies the resources of one response. A non-nil error NACKs the
// response; the handler must then keep serving what it had accepted before.
// Apply is called from one goroutine at a time and may call Subscribe.
type Handler interface {
	Apply(typeURL, version string, resources []*anypb.Any) error
}

// Options configure a Client.
type Options struct {
	// ServerAddress is the control plane's host:port; it must be loopback.
	ServerAddress string
	// NodeID and NodeCluster identify this data plane (node.id, node.cluster).
	NodeID      string
	NodeCluster string
	Handler     Handler
	Logger      *slog.Logger
	// InitialBackoff and MaxBackoff bound the reconnection delay, doubled
	// after each failure and jittered (defaults 250ms and 5s).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

// repeatNACKDelay paces NACKs of a version already rejected: go-control-plane
// answers a NACK at once with the same snapshot, which would otherwise spin.
const repeatNACKDelay = time.Second

// Types in the order Envoy requests them on an ADS stream.
var typeOrder = []string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType}

// Client is an ADS client. Create it with New and start it with Run.
type Client struct {
	opts   Options
	target string
	node   *corev3.Node
	log    *slog.Logger

	connected atomic.Bool

	mu      sync.Mutex
	subs    map[string]*subscription
	session *session // nil while disconnected
}

type subscription struct {
	wildcard bool
	names    []string // sorted; used when not wildcard
	version  string   // last accepted version
	nonce    string   // last nonce received on the current stream
	sent     bool     // a request was sent on the current stream

	rejectedVersion string
	rejections      int
	nackTimer       *time.Timer
}

// New validates opts and returns a client subscribed, wildcard, to clusters
// and listeners.
func New(opts Options) (*Client, error) {
	target, err := loopbackTarget(opts.ServerAddress)
	if err != nil {
		return nil, err
	}
	if opts.NodeID == "" {
		return nil, errors.New("xds node id is empty: give the Gateway's <namespace>/<name>")
	}
	if opts.Handler == nil {
		return nil, errors.New("xds client needs a Handler")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = 250 * time.Millisecond
	}
	if opts.MaxBackoff < opts.InitialBackoff {
		opts.MaxBackoff = max(5*time.Second, opts.InitialBackoff)
	}
	return &Client{
		opts:   opts,
		target: target,
		node:   &corev3.Node{Id: opts.NodeID, Cluster: opts.NodeCluster, UserAgentName: "keyconform-sim"},
		log:    opts.Logger.With("xds_server", target, "node", opts.NodeID),
		subs: map[string]*subscription{
			resource.ClusterType:  {wildcard: true},
			resource.EndpointType: {},
			resource.ListenerType: {wildcard: true},
			resource.RouteType:    {},
		},
	}, nil
}

// Connected reports whether an ADS stream is established.
func (c *Client) Connected() bool { return c.connected.Load() }

// Subscribe sets the resource names wanted for a non-wildcard type
// (endpoints or route configurations).
func (c *Client) Subscribe(typeURL string, names []string) {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.subs[typeURL]
	if !ok || s.wildcard || slices.Equal(s.names, names) {
		return
	}
	s.names = names
	c.requestLocked(typeURL, nil)
}

// Run talks to the control plane until ctx is done, reconnecting with
// backoff. It returns nil when ctx is done.
func (c *Client) Run(ctx context.Context) error {
	conn, err := grpc.NewClient("passthrough:///"+c.target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("xds client for %s: %w", c.target, err)
	}
	defer conn.Close()
	backoff := c.opts.InitialBackoff
	for {
		received, err := c.runStream(ctx, conn)
		if ctx.Err() != nil {
			return nil
		}
		if received {
			backoff = c.opts.InitialBackoff
		}
		c.log.Warn("xds stream ended; serving the last accepted config and reconnecting", "error", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff/2 + rand.N(backoff/2+1)):
		}
		backoff = min(2*backoff, c.opts.MaxBackoff)
	}
}

// runStream runs one ADS stream; received tells whether any response came.
func (c *Client) runStream(ctx context.Context, conn *grpc.ClientConn) (received bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return false, err
	}
	sess := newSession(stream)
	c.mu.Lock()
	c.session = sess
	for _, t := range typeOrder {
		s := c.subs[t]
		s.nonce, s.sent = "", false
		if s.wildcard || len(s.names) > 0 {
			c.requestLocked(t, nil)
		}
	}
	c.mu.Unlock()
	c.connected.Store(true)
	c.log.Info("xds stream established")

	sendDone := make(chan error, 1)
	go func() { sendDone <- sess.sendLoop(ctx) }()
	defer func() {
		c.connected.Store(false)
		c.mu.Lock()
		c.session = nil
		for _, s := range c.subs {
			if s.nackTimer != nil {
				s.nackTimer.Stop()
			}
		}
		c.mu.Unlock()
		cancel()
		<-sendDone
	}()
	for {
		resp, err := stream.Recv()
		if err != nil {
			select {
			case serr := <-sendDone:
				sendDone <- serr
				if serr != nil {
					return received, serr
				}
			default:
			}
			return received, err
		}
		received = true
		c.handle(resp)
	}
}

func (c *Client) handle(resp *discoveryv3.DiscoveryResponse) {
	typeURL := resp.GetTypeUrl()
	c.mu.Lock()
	s, ok := c.subs[typeURL]
	if ok {
		s.nonce = resp.GetNonce()
		if s.nackTimer != nil {
			s.nackTimer.Stop()
			s.nackTimer = nil
		}
	}
	c.mu.Unlock()
	if !ok {
		c.log.Warn("xds response for a type this data plane does not use; ignored", "type", typeURL)
		return
	}

	// The handler may call Subscribe, so c.mu is not held here.
	err := c.opts.Handler.Apply(typeURL, resp.GetVersionInfo(), resp.GetResources())

	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		s.version = resp.GetVersionInfo()
		s.rejectedVersion, s.rejections = "", 0
		c.log.Debug("xds update accepted", "type", typeURL, "version", s.version)
		c.requestLocked(typeURL, nil)
		return
	}
	detail := scrubbedDetail(err, resp.GetResources())
	if s.rejectedVersion == resp.GetVersionInfo() {
		s.rejections++
	} else {
		s.rejectedVersion, s.rejections = resp.GetVersionInfo(), 1
		c.log.Warn("xds update rejected; keeping the previous config", "type", typeURL, "version", resp.GetVersionInfo(), "kept_version", s.version, "error", detail.GetMessage())
	}
	if s.rejections == 1 {
		c.requestLocked(typeURL, detail)
		return
	}
	sess := c.session
	req := c.buildLocked(typeURL, s, detail)
	s.nackTimer = time.AfterFunc(repeatNACKDelay, func() {
		if sess != nil {
			sess.enqueue(req)
		}
	})
}
