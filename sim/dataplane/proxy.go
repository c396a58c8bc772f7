// Package dataplane is the sim's data plane: it consumes LDS, RDS, CDS and
// EDS over ADS and serves HTTP/1.1 on loopback as Envoy's HTTP connection
// manager, api_key_auth filter and router do for the resources a Gateway
// API implementation generates. Each xDS update is compiled into immutable
// per-listener state that requests read without locks; upstream traffic
// only goes through the simulated pod network.
package dataplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/sim/podnet"
	"github.com/keyconform/keyconform/sim/sensitive"
	"github.com/keyconform/keyconform/sim/xdsclient"
)

// Options configure a Proxy.
type Options struct {
	// XDS says where the control plane is and who this data plane is; the
	// proxy supplies Handler and Logger. A zero ServerAddress means no
	// dynamic resources: the proxy serves its static ones only.
	XDS xdsclient.Options
	// StaticListeners and StaticClusters are a bootstrap's static_resources:
	// compiled at New (an error there is a start-up error), never replaced
	// by xDS.
	StaticListeners []*listenerv3.Listener
	StaticClusters  []*clusterv3.Cluster
	// InitialFetchTimeouts are the config sources' initial_fetch_timeout,
	// by type URL (listeners and clusters): how long the server's
	// initialisation waits for that type's first response before it goes
	// on without (Envoy's default is 15s). Zero or absent waits for ever.
	InitialFetchTimeouts map[string]time.Duration
	// Pod, when set, is the network namespace the proxy runs in: listeners
	// bind inside it (reachable at the pod IP, or only from inside the pod
	// for 127.0.0.1) and every connection is made from it. ListenOverrides
	// and Network are then unused.
	Pod *podnet.Pod
	// ListenOverrides binds a listener port elsewhere than 127.0.0.1:<port>,
	// e.g. 8080 -> "127.0.0.1:0" for an ephemeral port. Values must be
	// loopback.
	ListenOverrides map[uint32]string
	// Network is the simulated pod network upstream traffic goes through; a
	// new empty one when nil.
	Network *podnet.Network
	Logger  *slog.Logger
	// Reject, when set, is asked about every xDS update before it is
	// applied; an error NACKs the update as if it were invalid, and the
	// proxy keeps what it had. A fault injector: the local environment
	// uses it to make a data plane refuse an update.
	Reject func(typeURL, version string) error
}

// Proxy is the data plane. Create it with New and start it with Run.
type Proxy struct {
	log       *slog.Logger
	network   *podnet.Network
	pod       *podnet.Pod
	overrides map[uint32]netip.AddrPort
	xds       *xdsclient.Client // nil without dynamic resources
	transport *http.Transport
	stats     *stats

	running  atomic.Bool
	live     atomic.Bool
	liveOnce sync.Once
	liveCh   chan struct{}

	mu        sync.Mutex
	listeners map[string]*entry[*listenerSpec]
	routes    map[string]*entry[*routeTable]
	clusters  map[string]*entry[*clusterSpec]
	endpoints map[string]*entry[*endpointSet]
	secrets   map[string]*entry[*secretSpec]
	versions  map[string]string
	seen      map[string]bool
	servers   map[string]*server
	warming   map[string]int // resource type -> warming count, for gauges

	fetchTimeouts map[string]time.Duration
	reject        func(typeURL, version string) error
	// edsWaits are the EDS clusters waiting for their first endpoints,
	// with the timer that ends the wait; edsGaveUp those whose wait ended.
	edsWaits  map[*clusterSpec]*time.Timer
	edsGaveUp map[*clusterSpec]bool

	// Static resources, merged into every LDS and CDS update.
	staticListeners map[string]*entry[*listenerSpec]
	staticClusters  map[string]*entry[*clusterSpec]
}

// New validates opts and returns a proxy that has not connected yet.
func New(opts Options) (*Proxy, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	p := &Proxy{
		log:       log,
		network:   opts.Network,
		overrides: map[uint32]netip.AddrPort{},
		stats:     newStats(),
		liveCh:    make(chan struct{}),
		listeners: map[string]*entry[*listenerSpec]{},
		routes:    map[string]*entry[*routeTable]{},
		clusters:  map[string]*entry[*clusterSpec]{},
		endpoints: map[string]*entry[*endpointSet]{},
		secrets:   map[string]*entry[*secretSpec]{},
		versions:  map[string]string{},
		seen:      map[string]bool{},
		servers:   map[string]*server{},
		warming:   map[string]int{},
		edsWaits:  map[*clusterSpec]*time.Timer{},
		edsGaveUp: map[*clusterSpec]bool{},
	}
	if p.network == nil {
		p.network = podnet.New()
	}
	dial := p.network.DialContext
	if opts.Pod != nil {
		p.pod, p.network, dial = opts.Pod, opts.Pod.Network(), opts.Pod.DialContext
	}
	for port, addr := range opts.ListenOverrides {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || !ap.Addr().IsLoopback() {
			return nil, fmt.Errorf("listen override %d=%s: want a loopback IP:port such as 127.0.0.1:%d or 127.0.0.1:0", port, addr, port)
		}
		p.overrides[port] = ap
	}
	if err := p.compileStatic(opts.StaticListeners, opts.StaticClusters); err != nil {
		return nil, err
	}
	p.fetchTimeouts, p.reject = opts.InitialFetchTimeouts, opts.Reject
	if opts.XDS.ServerAddress != "" {
		xo := opts.XDS
		xo.Handler, xo.Logger = (*xdsHandler)(p), log
		if xo.Dial == nil && opts.Pod != nil {
			xo.Dial = func(ctx context.Context, addr string) (net.Conn, error) { return dial(ctx, "tcp", addr) }
		}
		xds, err := xdsclient.New(xo)
		if err != nil {
			return nil, err
		}
		p.xds = xds
	}
	p.transport = &http.Transport{
		// Every upstream connection goes through the simulated pod network;
		// never through an environment proxy.
		Proxy:               nil,
		DialContext:         dial,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return p, nil
}

// compileStatic compiles a bootstrap's static resources, refusing the
// first one the sim cannot honour, as Envoy refuses to start.
func (p *Proxy) compileStatic(listeners []*listenerv3.Listener, clusters []*clusterv3.Cluster) error {
	p.staticListeners = map[string]*entry[*listenerSpec]{}
	p.staticClusters = map[string]*entry[*clusterSpec]{}
	for i, l := range listeners {
		s, err := compileListener(l)
		if err != nil {
			// A start-up error is logged and shown on the pod: never a key.
			return fmt.Errorf("static_resources.listeners[%d] %q: %s", i, l.GetName(), sensitive.ScrubError(err, l))
		}
		if _, dup := p.staticListeners[l.GetName()]; dup {
			return fmt.Errorf("static_resources.listeners[%d]: duplicate listener name %q", i, l.GetName())
		}
		p.staticListeners[l.GetName()] = &entry[*listenerSpec]{version: "static", updated: time.Now(), msg: l, spec: s}
	}
	for i, c := range clusters {
		s, err := compileCluster(c)
		if err != nil {
			return fmt.Errorf("static_resources.clusters[%d] %q: %w", i, c.GetName(), err)
		}
		if _, dup := p.staticClusters[c.GetName()]; dup {
			return fmt.Errorf("static_resources.clusters[%d]: duplicate cluster name %q", i, c.GetName())
		}
		p.staticClusters[c.GetName()] = &entry[*clusterSpec]{version: "static", updated: time.Now(), msg: c, spec: s}
	}
	return nil
}

// Network is the simulated pod network the proxy dials through.
func (p *Proxy) Network() *podnet.Network { return p.network }

// Run connects to the control plane and serves until ctx is done, then
// closes every listener.
func (p *Proxy) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("dataplane: Run called twice")
	}
	if err := p.startStatic(); err != nil {
		p.closeServers()
		return err
	}
	var err error
	if p.xds != nil {
		for typeURL, d := range p.fetchTimeouts {
			if d > 0 {
				t := time.AfterFunc(d, func() { p.fetchTimedOut(typeURL) })
				defer t.Stop()
			}
		}
		err = p.xds.Run(ctx)
	} else {
		<-ctx.Done()
	}
	p.closeServers()
	p.transport.CloseIdleConnections()
	return err
}

// startStatic puts the static resources in force before any xDS arrives,
// as Envoy's server does before it starts its ADS stream. A static listener
// that cannot bind stops the start, as it stops Envoy.
func (p *Proxy) startStatic() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	listeners, err := p.bind(maps.Clone(p.staticListeners))
	if err != nil {
		return err
	}
	p.listeners, p.clusters = listeners, maps.Clone(p.staticClusters)
	if p.xds == nil {
		// Nothing to wait for.
		p.seen[resource.ListenerType], p.seen[resource.ClusterType] = true, true
	}
	p.rebuild()
	return nil
}

// fetchTimedOut ends the wait for a type's first response, as Envoy's
// subscription init target does when initial_fetch_timeout elapses.
func (p *Proxy) fetchTimedOut(typeURL string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen[typeURL] {
		return
	}
	p.log.Warn("no first response within initial_fetch_timeout; initialisation goes on without it", "type", typeURL)
	p.seen[typeURL] = true
	p.rebuild()
}

func (p *Proxy) closeServers() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, s := range p.servers {
		s.close()
		delete(p.servers, name)
	}
	for c, t := range p.edsWaits {
		t.Stop()
		delete(p.edsWaits, c)
	}
}

// WaitReady blocks until the proxy is LIVE (see ServerState) or ctx ends.
func (p *Proxy) WaitReady(ctx context.Context) error {
	select {
	case <-p.liveCh:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dataplane: not ready: %w", ctx.Err())
	}
}

// ServerState is Envoy's server state as /ready reports it: PRE_INITIALIZING
// before Run, INITIALIZING until the first listeners and clusters are
// received, their route configurations and endpoints too, and every listener
// is bound; then LIVE for good, as Envoy's init manager completes once.
func (p *Proxy) ServerState() string {
	switch {
	case p.live.Load():
		return "LIVE"
	case p.running.Load():
		return "INITIALIZING"
	}
	return "PRE_INITIALIZING"
}

// ListenerAddr is the address a listener port is bound to, once bound.
func (p *Proxy) ListenerAddr(port uint32) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, e := range p.listeners {
		if e.spec.port == port {
			if s := p.servers[name]; s != nil {
				return s.ln.Addr().String(), true
			}
		}
	}
	return "", false
}

// Stats returns the counters and gauges, sorted by name.
func (p *Proxy) Stats() []Stat {
	p.mu.Lock()
	gauges := map[string]uint64{
		"listener_manager.total_listeners_active":  uint64(len(p.listeners) - p.warming[resource.ListenerType]),
		"listener_manager.total_listeners_warming": uint64(p.warming[resource.ListenerType]),
		"cluster_manager.active_clusters":          uint64(len(p.clusters) - p.warming[resource.ClusterType]),
		"cluster_manager.warming_clusters":         uint64(p.warming[resource.ClusterType]),
		"control_plane.connected_state":            0,
	}
	p.mu.Unlock()
	if p.xds != nil && p.xds.Connected() {
		gauges["control_plane.connected_state"] = 1
	}
	return p.stats.list(gauges)
}

// xdsHandler is the Proxy seen by the xDS client.
type xdsHandler Proxy

func (h *xdsHandler) Apply(typeURL, version string, res []*anypb.Any) error {
	if h.reject != nil {
		if err := h.reject(typeURL, version); err != nil {
			return err
		}
	}
	return (*Proxy)(h).apply(typeURL, version, res)
}

var updateStatPrefix = map[string]string{
	resource.ListenerType: "listener_manager.lds.",
	resource.ClusterType:  "cluster_manager.cds.",
}

func (p *Proxy) apply(typeURL, version string, res []*anypb.Any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	var err error
	var names []string
	switch typeURL {
	case resource.ListenerType:
		var next map[string]*entry[*listenerSpec]
		next, names, err = applyResources(p.listeners, version, now, res, true, compileListenerMessage)
		withStatic(next, p.staticListeners)
		next, bindErr := p.bind(next)
		p.listeners, err = next, errors.Join(err, bindErr)
		p.xds.Subscribe(resource.RouteType, p.routeNames())
		p.xds.Subscribe(resource.SecretType, p.secretNames())
	case resource.RouteType:
		p.routes, names, err = applyResources(p.routes, version, now, res, false, compileRouteMessage)
	case resource.ClusterType:
		p.clusters, names, err = applyResources(p.clusters, version, now, res, true, compileClusterMessage)
		withStatic(p.clusters, p.staticClusters)
		p.xds.Subscribe(resource.EndpointType, p.endpointNames())
	case resource.EndpointType:
		p.endpoints, names, err = applyResources(p.endpoints, version, now, res, false, compileEndpointsMessage)
	case resource.SecretType:
		p.secrets, names, err = applyResources(p.secrets, version, now, res, false, compileSecretMessage)
	default:
		return fmt.Errorf("type %s is not implemented by the sim", typeURL)
	}
	p.seen[typeURL] = true
	p.versions[typeURL] = version
	p.countUpdate(typeURL, names, err)
	p.rebuild()
	return err
}

// countUpdate counts an update in every subscription scope it touched.
// Envoy creates a subscription's counters together (SubscriptionStats in
// envoy/config/subscription.h), so update_rejected reads 0 before any
// rejection rather than being absent.
func (p *Proxy) countUpdate(typeURL string, names []string, err error) {
	var scopes []string
	if prefix, ok := updateStatPrefix[typeURL]; ok {
		scopes = []string{prefix}
	} else {
		// RDS stats live under each connection manager that uses the route
		// configuration (http.<stat_prefix>.rds.<name>.*); EDS under the
		// cluster.
		for _, n := range names {
			scopes = append(scopes, p.statScopes(typeURL, n)...)
		}
	}
	for _, scope := range scopes {
		success, rejected := p.stats.counter(scope+"update_success"), p.stats.counter(scope+"update_rejected")
		p.stats.inc(scope + "update_attempt")
		if err != nil {
			rejected.Add(1)
		} else {
			success.Add(1)
		}
	}
}

func (p *Proxy) statScopes(typeURL, name string) []string {
	var out []string
	if typeURL == resource.EndpointType {
		for cname, c := range p.clusters {
			if c.spec.edsName == name {
				out = append(out, "cluster."+cname+".")
			}
		}
		return out
	}
	for c := range p.chains() {
		if c.hcm.rdsName == name {
			out = append(out, "http."+c.hcm.statPrefix+".rds."+name+".")
		}
	}
	// Chains of one listener often share a route configuration and a stat
	// prefix: count the update once per scope.
	return slices.Compact(slices.Sorted(slices.Values(out)))
}

// chains are the filter chains of every listener in force.
func (p *Proxy) chains() iter.Seq[*chainSpec] {
	return func(yield func(*chainSpec) bool) {
		for _, l := range p.listeners {
			for _, c := range l.spec.chains {
				if !yield(c) {
					return
				}
			}
		}
	}
}

func (p *Proxy) routeNames() []string {
	var names []string
	for c := range p.chains() {
		if n := c.hcm.rdsName; n != "" {
			names = append(names, n)
		}
	}
	return names
}

func (p *Proxy) secretNames() []string {
	var names []string
	for c := range p.chains() {
		if c.tls != nil {
			names = append(names, c.tls.sdsNames...)
		}
	}
	return names
}

func (p *Proxy) endpointNames() []string {
	var names []string
	for _, c := range p.clusters {
		if c.spec.edsName != "" {
			names = append(names, c.spec.edsName)
		}
	}
	return names
}

func compileListenerMessage(m proto.Message) (string, *listenerSpec, error) {
	l, ok := m.(*listenerv3.Listener)
	if !ok {
		return "", nil, fmt.Errorf("%s in a listener response", m.ProtoReflect().Descriptor().FullName())
	}
	s, err := compileListener(l)
	return l.GetName(), s, err
}

func compileRouteMessage(m proto.Message) (string, *routeTable, error) {
	rc, ok := m.(*routev3.RouteConfiguration)
	if !ok {
		return "", nil, fmt.Errorf("%s in a route configuration response", m.ProtoReflect().Descriptor().FullName())
	}
	t, err := compileRouteTable(rc)
	return rc.GetName(), t, err
}

func compileClusterMessage(m proto.Message) (string, *clusterSpec, error) {
	c, ok := m.(*clusterv3.Cluster)
	if !ok {
		return "", nil, fmt.Errorf("%s in a cluster response", m.ProtoReflect().Descriptor().FullName())
	}
	s, err := compileCluster(c)
	return c.GetName(), s, err
}

func compileEndpointsMessage(m proto.Message) (string, *endpointSet, error) {
	cla, ok := m.(*endpointv3.ClusterLoadAssignment)
	if !ok {
		return "", nil, fmt.Errorf("%s in an endpoints response", m.ProtoReflect().Descriptor().FullName())
	}
	s, err := compileEndpoints(cla)
	return cla.GetClusterName(), s, err
}

// bindAddr is where a listener is bound. In a pod, its own address.
// Otherwise its override, else its own address if loopback, else 127.0.0.1
// on its port: the sim never listens on a non-loopback address.
func (p *Proxy) bindAddr(l *listenerSpec) netip.AddrPort {
	if p.pod != nil {
		return netip.AddrPortFrom(l.address, uint16(l.port))
	}
	if ap, ok := p.overrides[l.port]; ok {
		return ap
	}
	addr := netip.MustParseAddr("127.0.0.1")
	if l.address.IsLoopback() {
		addr = l.address
	}
	return netip.AddrPortFrom(addr, uint16(l.port))
}

func (p *Proxy) listenOn(addr netip.AddrPort) (net.Listener, error) {
	if p.pod != nil {
		return p.pod.Listen(addr.Addr(), addr.Port())
	}
	return net.Listen("tcp", addr.String())
}

// bind opens the sockets of new or moved listeners, as Envoy does when it
// creates a listener, so that a bind failure rejects that listener (keeping
// its previous version). Sockets of removed or moved listeners are closed.
func (p *Proxy) bind(next map[string]*entry[*listenerSpec]) (map[string]*entry[*listenerSpec], error) {
	var errs []error
	claimed := map[netip.AddrPort]string{}
	for name, e := range next {
		want := p.bindAddr(e.spec)
		if other, dup := claimed[want]; dup && want.Port() != 0 {
			errs = append(errs, fmt.Errorf("error adding listener %q: it has the same address (%s) as listener %q", name, want, other))
			p.revertListener(next, name)
			continue
		}
		claimed[want] = name
		if s := p.servers[name]; s != nil && s.bind == want {
			continue
		}
		if old := p.servers[name]; old != nil && p.pod != nil && old.bind.Port() == want.Port() {
			// In a pod the port is the socket's identity: free it first.
			old.close()
			delete(p.servers, name)
		}
		ln, err := p.listenOn(want)
		if err != nil {
			errs = append(errs, fmt.Errorf("listener %q: cannot bind %s: %w", name, want, err))
			p.revertListener(next, name)
			continue
		}
		s := newServer(name, want, ln, p.log)
		if old := p.servers[name]; old != nil {
			old.close()
		}
		p.servers[name] = s
	}
	for name, s := range p.servers {
		if _, ok := next[name]; !ok {
			s.close()
			delete(p.servers, name)
		}
	}
	return next, errors.Join(errs...)
}

func (p *Proxy) revertListener(next map[string]*entry[*listenerSpec], name string) {
	if old, ok := p.listeners[name]; ok && p.servers[name] != nil {
		next[name] = old
		return
	}
	delete(next, name)
}

// rebuild compiles the accepted resources into per-listener runtimes and
// swaps them in; listeners whose route configuration has arrived start
// serving. Route configurations and endpoints nobody refers to any more are
// dropped, as Envoy drops unsubscribed resources.
func (p *Proxy) rebuild() {
	keepOnly(p.routes, p.routeNames())
	keepOnly(p.endpoints, p.endpointNames())
	keepOnly(p.secrets, p.secretNames())
	p.forgetEndpointWaits()

	ups := map[string]*upstream{}
	warmingClusters := 0
	for name, c := range p.clusters {
		eps := c.spec.static
		if eps == nil {
			if e, ok := p.endpoints[c.spec.edsName]; ok {
				eps = e.spec
			}
		}
		if eps == nil && p.edsGaveUp[c.spec] {
			eps = noEndpoints(c.spec.edsName)
		}
		if eps == nil {
			p.awaitEndpoints(c.spec)
			warmingClusters++
			continue
		}
		ups[name] = newUpstream(c.spec, eps)
	}
	warmingListeners := 0
	var ready []*server
	for name, l := range p.listeners {
		s := p.servers[name]
		rt := p.listenerRuntime(l.spec, ups)
		if rt == nil || s == nil {
			warmingListeners++
			continue
		}
		s.rt.Store(rt)
		ready = append(ready, s)
	}
	p.warming[resource.ClusterType] = warmingClusters
	p.warming[resource.ListenerType] = warmingListeners
	if p.seen[resource.ListenerType] && p.seen[resource.ClusterType] && warmingClusters == 0 && warmingListeners == 0 {
		p.liveOnce.Do(func() {
			p.live.Store(true)
			close(p.liveCh)
			p.log.Info("data plane LIVE", "listeners", len(p.listeners), "clusters", len(p.clusters))
		})
	}
	// Envoy starts its listeners once its initialisation is done (the
	// first listeners, clusters, routes and endpoints), then each new one
	// as soon as it is warm.
	if p.live.Load() {
		for _, s := range ready {
			s.serve()
		}
	}
}

// chainInputs are the route table and certificates of each of a
// listener's chains; ok is false while one is missing, and Envoy keeps
// such a listener warming (its previous version, if any, serves on).
func (p *Proxy) chainInputs(l *listenerSpec) (tables []*routeTable, certs []*tls.Config, ok bool) {
	tables, certs = make([]*routeTable, len(l.chains)), make([]*tls.Config, len(l.chains))
	for i, c := range l.chains {
		tables[i] = c.hcm.inlineRoutes
		if tables[i] == nil {
			e, found := p.routes[c.hcm.rdsName]
			if !found {
				return nil, nil, false
			}
			tables[i] = e.spec
		}
		if c.tls != nil {
			if certs[i], ok = c.tls.config(p.secrets); !ok {
				return nil, nil, false
			}
		}
	}
	return tables, certs, true
}

// listenerRuntime binds a listener's chains to the current clusters, or
// returns nil while it is warming.
func (p *Proxy) listenerRuntime(l *listenerSpec, ups map[string]*upstream) *listenerRuntime {
	tables, certs, ok := p.chainInputs(l)
	if !ok {
		return nil
	}
	rt := &listenerRuntime{spec: l, chains: make([]chainRuntime, len(l.chains))}
	for i, c := range l.chains {
		rt.chains[i] = chainRuntime{hcm: newHCMRuntime(p, c.hcm, l.port, tables[i], ups), tls: certs[i]}
	}
	return rt
}

// withStatic puts the static resources back into next: a dynamic resource
// named like a static one is skipped, not an error, as Envoy's listener and
// cluster managers skip it (ListenerImpl::blockUpdate and
// ClusterData::blockUpdate block any update of what was not added via the
// API).
func withStatic[T any](next, static map[string]*entry[T]) {
	maps.Copy(next, static)
}

// awaitEndpoints starts the wait of an EDS cluster for its first endpoints:
// once its initial_fetch_timeout passes without them, Envoy's cluster
// manager initialises it with none, and the server's initialisation goes
// on.
func (p *Proxy) awaitEndpoints(c *clusterSpec) {
	if c.edsFetchTimeout <= 0 || p.edsWaits[c] != nil {
		return
	}
	p.edsWaits[c] = time.AfterFunc(c.edsFetchTimeout, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.edsWaits[c] == nil {
			return // the cluster went away
		}
		p.log.Warn("no endpoints within initial_fetch_timeout; the cluster goes on without any", "cluster", c.name)
		p.edsGaveUp[c] = true
		p.rebuild()
	})
}

// noEndpoints is an empty ClusterLoadAssignment, compiled.
func noEndpoints(name string) *endpointSet {
	eps, err := compileLoadAssignment(&endpointv3.ClusterLoadAssignment{ClusterName: name}, true)
	if err != nil {
		panic(fmt.Sprintf("an empty load assignment does not compile: %v", err))
	}
	return eps
}

// forgetEndpointWaits drops the waits of clusters no longer in force.
func (p *Proxy) forgetEndpointWaits() {
	live := map[*clusterSpec]bool{}
	for _, c := range p.clusters {
		live[c.spec] = true
	}
	for c, t := range p.edsWaits {
		if !live[c] {
			t.Stop()
			delete(p.edsWaits, c)
			delete(p.edsGaveUp, c)
		}
	}
}

func keepOnly[T any](m map[string]*entry[T], names []string) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for n := range m {
		if !want[n] {
			delete(m, n)
		}
	}
}
