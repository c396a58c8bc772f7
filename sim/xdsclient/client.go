// Package xdsclient is a small ADS (aggregated) xDS client over gRPC, as
// Envoy runs one. It speaks either wire form of ADS:
//
//   - state of the world (StreamAggregatedResources, Envoy's api_type GRPC),
//     the default: every response holds the whole set of its type;
//   - incremental, or delta (DeltaAggregatedResources, api_type DELTA_GRPC),
//     with Options.Delta: requests carry subscription changes, responses
//     carry the resources added or changed and the names removed, and the
//     client keeps each type's whole set itself.
//
// It reaches a loopback control plane, or any address through Options.Dial,
// in plaintext or TLS. In either form it subscribes to clusters and
// listeners (wildcard) and to the endpoints and route configurations it is
// told to, hands the Handler each type's whole current set, ACKs what the
// handler accepts and NACKs what it rejects (with an error detail, keeping
// the last accepted state), and reconnects with backoff while the data
// plane keeps serving. The subscription state is shared by both forms; only
// the encoding of requests and responses differs (wire.go, delta.go).
//
// go-control-plane's pkg/client/sotw/v3 handles one type URL per stream with
// no resource names, which cannot drive LDS+RDS+CDS+EDS over one ADS stream,
// hence this client.
package xdsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/anypb"
)

// Handler applies the resources of one type: in either wire form it gets the
// type's whole current set, sorted by name in delta. A non-nil error NACKs
// the response; the handler must then keep serving what it had accepted
// before. Apply is called from one goroutine at a time and may call
// Subscribe.
type Handler interface {
	Apply(typeURL, version string, resources []*anypb.Any) error
}

// Options configure a Client.
type Options struct {
	// ServerAddress is the control plane's host:port. Without Dial it must
	// be loopback; with Dial it is whatever that dialer understands.
	ServerAddress string
	// Dial, when set, makes every connection to the control plane, given
	// ServerAddress as is: gRPC resolves nothing itself (passthrough).
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// TLS, when set, secures the connection with it; nil is plaintext.
	// Unless it sets ServerName, the server's certificate must be valid
	// for ServerAddress's host.
	TLS *tls.Config

	// Node identifies this data plane as given (cloned; user_agent_name
	// defaults to keyconform-sim). Set either Node or NodeID and
	// NodeCluster (node.id, node.cluster), not both; the id is required.
	Node        *corev3.Node
	NodeID      string
	NodeCluster string
	// NodeOnFirstMessageOnly sends the node on the first request of each
	// stream only (Envoy's set_node_on_first_message_only); by default it
	// is on every request.
	NodeOnFirstMessageOnly bool

	// Delta selects incremental xDS (DeltaAggregatedResources) instead of
	// state of the world.
	Delta bool

	Handler Handler
	Logger  *slog.Logger
	// InitialBackoff and MaxBackoff bound the reconnection delay, doubled
	// after each failure and jittered (defaults 250ms and 5s).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

// repeatNACKDelay paces NACKs of a version already rejected: go-control-plane
// answers a state-of-the-world NACK at once with the same snapshot, which
// would otherwise spin.
const repeatNACKDelay = time.Second

// Types in the order Envoy requests them on an ADS stream: secrets are
// requested by the listeners' TLS contexts, after the listeners.
var typeOrder = []string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType, resource.SecretType}

// Client is an ADS client. Create it with New and start it with Run.
type Client struct {
	opts   Options
	target string
	node   *corev3.Node
	wire   wire
	log    *slog.Logger

	connected atomic.Bool

	mu      sync.Mutex
	subs    map[string]*subscription
	session *session // nil while disconnected
}

// subscription is the state of one type, whatever the wire form.
type subscription struct {
	wildcard bool
	names    []string // sorted; used when not wildcard
	version  string   // last accepted version
	// held is the set the Handler last accepted, by name, in delta, where
	// each response only changes it; nil in state of the world.
	held map[string]*discoveryv3.Resource

	// The fields below describe the current stream.
	nonce     string   // last nonce received
	answers   []answer // ACKs and NACKs not sent yet, oldest first
	sent      bool     // a request was sent
	announced []string // names the server was last told, when not wildcard

	rejectedVersion string
	rejections      int
	nackTimer       *time.Timer
}

// answer is the ACK (no detail) or NACK of one response.
type answer struct {
	nonce  string
	detail *status.Status
}

// due reports whether the server is owed a request for this type: an
// answer, the stream's first request, or a change of names. A named type
// naming nothing yet is not requested: an empty first request would
// subscribe to every resource of the type (legacy wildcard).
func (s *subscription) due() bool {
	switch {
	case len(s.answers) > 0:
		return true
	case !s.sent:
		return s.wildcard || len(s.names) > 0
	default:
		return !s.wildcard && !slices.Equal(s.names, s.announced)
	}
}

// isAnnounced reports whether the server was told this type wants name.
func (s *subscription) isAnnounced(name string) bool {
	return s.wildcard || contains(s.announced, name)
}

// dropUnannounced removes from held the names the server was told this
// type no longer wants: the server forgets them too and would never
// announce their removal.
func (s *subscription) dropUnannounced(held map[string]*discoveryv3.Resource) {
	for name := range held {
		if !s.isAnnounced(name) {
			delete(held, name)
		}
	}
}

// New validates opts and returns a client subscribed, wildcard, to clusters
// and listeners.
func New(opts Options) (*Client, error) {
	var target string
	var err error
	if opts.Dial != nil {
		target, err = dialedTarget(opts.ServerAddress)
	} else {
		target, err = loopbackTarget(opts.ServerAddress)
	}
	if err != nil {
		return nil, err
	}
	node, err := nodeOf(opts)
	if err != nil {
		return nil, err
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
	var w wire = sotwWire{}
	if opts.Delta {
		w = deltaWire{}
	}
	return &Client{
		opts:   opts,
		target: target,
		node:   node,
		wire:   w,
		log:    opts.Logger.With("xds_server", target, "node", node.GetId(), "api_type", w.apiType()),
		subs: map[string]*subscription{
			resource.ClusterType:  {wildcard: true},
			resource.EndpointType: {},
			resource.ListenerType: {wildcard: true},
			resource.RouteType:    {},
			resource.SecretType:   {},
		},
	}, nil
}

// Connected reports whether an ADS stream is established.
func (c *Client) Connected() bool { return c.connected.Load() }

// Subscribe sets the resource names wanted for a non-wildcard type
// (endpoints, route configurations or secrets). In delta the server is told the
// names added and removed since it was last told, and the resources no
// longer named leave the set the Handler gets from the type's next update.
func (c *Client) Subscribe(typeURL string, names []string) {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.subs[typeURL]
	if !ok || s.wildcard || slices.Equal(s.names, names) {
		return
	}
	s.names = names
	c.requestLocked(typeURL)
}

// Run talks to the control plane until ctx is done, reconnecting with
// backoff. It returns nil when ctx is done.
func (c *Client) Run(ctx context.Context) error {
	conn, err := grpc.NewClient("passthrough:///"+c.target, c.dialOptions()...)
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

func (c *Client) dialOptions() []grpc.DialOption {
	creds := insecure.NewCredentials()
	if c.opts.TLS != nil {
		creds = credentials.NewTLS(c.opts.TLS)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if c.opts.Dial != nil {
		opts = append(opts, grpc.WithContextDialer(c.opts.Dial))
	}
	return opts
}

// runStream runs one ADS stream; received tells whether any response came.
func (c *Client) runStream(ctx context.Context, conn *grpc.ClientConn) (received bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.wire.open(ctx, conn)
	if err != nil {
		return false, err
	}
	sess := newSession(stream)
	c.mu.Lock()
	c.session = sess
	for _, t := range typeOrder {
		s := c.subs[t]
		s.nonce, s.answers, s.sent, s.announced = "", nil, false, nil
		c.requestLocked(t)
	}
	c.mu.Unlock()
	c.connected.Store(true)
	c.log.Info("xds stream established")

	sendDone := make(chan error, 1)
	go func() { sendDone <- sess.sendLoop(ctx, c.nextRequest) }()
	defer func() {
		c.connected.Store(false)
		c.mu.Lock()
		c.session = nil
		for _, s := range c.subs {
			if s.nackTimer != nil {
				s.nackTimer.Stop()
				s.nackTimer = nil
			}
		}
		c.mu.Unlock()
		cancel()
		<-sendDone
	}()
	for {
		resp, err := c.wire.recv(stream)
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

func (c *Client) handle(resp response) {
	typeURL, version, nonce := resp.header()
	c.mu.Lock()
	s, ok := c.subs[typeURL]
	if !ok {
		c.mu.Unlock()
		c.log.Warn("xds response for a type this data plane does not use; ignored", "type", typeURL)
		return
	}
	s.nonce = nonce
	if s.nackTimer != nil {
		s.nackTimer.Stop()
		s.nackTimer = nil
	}
	resources, held, err := resp.resolve(s)
	c.mu.Unlock()

	if err == nil {
		// The handler may call Subscribe, so c.mu is not held here.
		err = c.opts.Handler.Apply(typeURL, version, resources)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		s.version = version
		// Names unsubscribed while the handler ran are no longer held.
		s.dropUnannounced(held)
		s.held = held
		s.rejectedVersion, s.rejections = "", 0
		c.log.Debug("xds update accepted", "type", typeURL, "version", version, "resources", len(resources))
		c.answerLocked(typeURL, answer{nonce: nonce})
		return
	}
	// s.held is left as it was: a delta update the handler rejects is
	// rolled back whole, as the handler keeps what it had.
	nack := answer{nonce: nonce, detail: scrubbedDetail(err, resources)}
	if s.rejectedVersion == version {
		s.rejections++
	} else {
		s.rejectedVersion, s.rejections = version, 1
		c.log.Warn("xds update rejected; keeping the previous config", "type", typeURL, "version", version, "kept_version", s.version, "error", nack.detail.GetMessage())
	}
	if s.rejections == 1 {
		c.answerLocked(typeURL, nack)
		return
	}
	var timer *time.Timer
	timer = time.AfterFunc(repeatNACKDelay, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		// A newer response or stream has made this NACK moot.
		if s.nackTimer == timer {
			s.nackTimer = nil
			c.answerLocked(typeURL, nack)
		}
	})
	s.nackTimer = timer
}
