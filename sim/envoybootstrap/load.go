package envoybootstrap

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// FileReader reads a file of the Envoy container's filesystem: in the sim,
// the ConfigMaps and Secrets the pod spec mounts, provided by the caller.
type FileReader func(path string) ([]byte, error)

// Config is a checked bootstrap: what a sim data plane runs with.
type Config struct {
	// Bootstrap is the merged bootstrap as Envoy would run it: the file,
	// --config-yaml merged over it, the --service-* flags applied.
	Bootstrap *bootstrapv3.Bootstrap
	// Node is the node the data plane presents to its control plane.
	Node *corev3.Node
	// Admin is the admin interface's address; the zero value when the
	// bootstrap has none.
	Admin netip.AddrPort
	// Listeners are the static listeners.
	Listeners []*listenerv3.Listener
	// Clusters are the static clusters but the ADS cluster, which the xDS
	// client owns (ADS).
	Clusters []*clusterv3.Cluster
	// ADS is how to reach the control plane; nil without dynamic_resources.
	ADS *ADS
	// Ignored is what was accepted without effect on the sim, command-line
	// flags first, each "field: reason", for a start-up log line.
	Ignored []string
}

// ADS is the aggregated discovery service the data plane subscribes to.
type ADS struct {
	// Delta is api_type DELTA_GRPC (incremental xDS); false is GRPC
	// (state of the world).
	Delta bool
	// Cluster is the static cluster ads_config names.
	Cluster string
	// Address is host:port of that cluster's one endpoint as written: an
	// IP, or a DNS name (kept as is, trailing dot included) for the caller
	// to resolve.
	Address string
	// TLS is the cluster's UpstreamTlsContext as a client configuration;
	// nil for plaintext.
	TLS *tls.Config
	// NodeOnFirstMessageOnly is set_node_on_first_message_only: the node
	// goes in the first request of a stream only.
	NodeOnFirstMessageOnly bool
	// ConnectTimeout bounds one connection attempt (the cluster's
	// connect_timeout; Envoy's default is 5s).
	ConnectTimeout time.Duration
	// HTTP2Keepalive is the cluster's HTTP/2 connection_keepalive (PINGs
	// that detect a dead control plane); nil when not set.
	HTTP2Keepalive *corev3.KeepaliveSettings
	// TCPKeepalive is the cluster's upstream_connection_options.tcp_keepalive;
	// nil when not set.
	TCPKeepalive *corev3.TcpKeepalive
	// LDSInitialFetchTimeout and CDSInitialFetchTimeout are how long Envoy
	// waits for the first listeners and clusters before initialising
	// without them (initial_fetch_timeout; Envoy's default is 15s); 0
	// waits for ever.
	LDSInitialFetchTimeout, CDSInitialFetchTimeout time.Duration
}

// Load reads the bootstrap that a (--config-path, --config-yaml) names
// through read, as Envoy's InstanceUtil::loadBootstrapConfig
// (source/server/server.cc) does, applies the --service-* flags, validates
// it, and checks that the sim implements what it sets. Errors name the
// field and the file it came from, and never quote a private key.
func Load(a Args, read FileReader) (*Config, error) {
	c, err := load(a, read)
	return c, redactErr(err)
}

func load(a Args, read FileReader) (*Config, error) {
	if a.ConfigPath == "" && a.ConfigYAML == "" {
		// server.cc's check, worded for a pod spec: an image whose
		// entrypoint adds the bootstrap (kgateway's envoy-wrapper runs
		// envoyinit, which reads /etc/envoy/envoy.yaml and passes it as
		// --config-yaml) needs it spelled out.
		return nil, errors.New("envoy command line has neither --config-path (-c) nor --config-yaml: Envoy needs one of them (\"At least one of --config-path or --config-yaml or Options::configProto() should be non-empty\"); if the image's entrypoint adds it, give it in the container's command or args")
	}
	l := &loader{args: a, read: read, src: sources{pathName: a.ConfigPath}}
	b, err := l.bootstrap()
	if err != nil {
		return nil, err
	}
	l.b = b
	c := &Config{Bootstrap: b, Node: b.GetNode()}
	if err := l.checkTop(); err != nil {
		return nil, err
	}
	if c.Admin, err = l.admin(); err != nil {
		return nil, l.from("admin", err)
	}
	if err := l.runtime(); err != nil {
		return nil, l.from("layered_runtime", err)
	}
	if err := l.staticResources(); err != nil {
		return nil, l.from("static_resources", err)
	}
	adsIndex := -1
	if b.GetDynamicResources() != nil {
		if c.ADS, adsIndex, err = l.ads(); err != nil {
			return nil, err
		}
	}
	c.Listeners = b.GetStaticResources().GetListeners()
	for i, cl := range b.GetStaticResources().GetClusters() {
		if i != adsIndex {
			c.Clusters = append(c.Clusters, cl)
		}
	}
	c.Ignored = append(append([]string(nil), a.Ignored...), l.check.ignored...)
	return c, nil
}

// loader is one Load.
type loader struct {
	args  Args
	read  FileReader
	src   sources
	b     *bootstrapv3.Bootstrap
	check checker
}

// sources are what the bootstrap was merged from, to tell which file a
// field came from.
type sources struct {
	pathName string
	path     *bootstrapv3.Bootstrap // from --config-path, or nil
	yaml     *bootstrapv3.Bootstrap // from --config-yaml, or nil
	cli      bool                   // --service-* flags changed node
}

// of names where the top-level field top was set.
func (s sources) of(top protoreflect.Name) string {
	has := func(b *bootstrapv3.Bootstrap) bool {
		if b == nil {
			return false
		}
		fd := b.ProtoReflect().Descriptor().Fields().ByName(top)
		return fd != nil && b.ProtoReflect().Has(fd)
	}
	var from string
	switch inPath, inYAML := has(s.path), has(s.yaml); {
	case inPath && inYAML:
		from = fmt.Sprintf("--config-path %s merged with --config-yaml", s.pathName)
	case inPath:
		from = "--config-path " + s.pathName
	case inYAML:
		from = "--config-yaml"
	}
	if top == "node" && s.cli {
		if from == "" {
			return "--service-node/--service-cluster/--service-zone"
		}
		return from + " with --service-node/--service-cluster/--service-zone"
	}
	if from == "" {
		return "bootstrap"
	}
	return from
}

// from prefixes err with where the top-level field top came from.
func (l *loader) from(top protoreflect.Name, err error) error {
	return fmt.Errorf("%s: %w", l.src.of(top), err)
}

// bootstrap reads, merges, overrides and validates the bootstrap.
func (l *loader) bootstrap() (*bootstrapv3.Bootstrap, error) {
	discard := l.args.AllowUnknownStaticFields
	b := &bootstrapv3.Bootstrap{}
	if p := l.args.ConfigPath; p != "" {
		data, err := l.read(p)
		if err != nil {
			return nil, fmt.Errorf("--config-path %s: %w", p, err)
		}
		if err := decodeFile(p, data, b, discard); err != nil {
			return nil, fmt.Errorf("--config-path %s: not an Envoy bootstrap: %w", p, err)
		}
		l.src.path = b
	}
	if y := l.args.ConfigYAML; y != "" {
		over := &bootstrapv3.Bootstrap{}
		if err := decodeYAML([]byte(y), over, discard); err != nil {
			return nil, fmt.Errorf("--config-yaml: not an Envoy bootstrap: %w", err)
		}
		l.src.yaml = over
		// server.cc: bootstrap.MergeFrom(bootstrap_override). Go's
		// proto.Merge is the same: set scalars replace, messages merge,
		// repeated fields append, map entries replace.
		merged := proto.Clone(b).(*bootstrapv3.Bootstrap)
		proto.Merge(merged, over)
		b = merged
	}
	// The command line overrides the bootstrap's node
	// (LocalInfoImpl's constructor, source/common/local_info/local_info_impl.h).
	if a := l.args; a.ServiceNode != "" || a.ServiceCluster != "" || a.ServiceZone != "" {
		l.src.cli = true
		n := b.GetNode()
		if n == nil {
			n = &corev3.Node{}
			b.Node = n
		}
		if a.ServiceZone != "" {
			if n.Locality == nil {
				n.Locality = &corev3.Locality{}
			}
			n.Locality.Zone = a.ServiceZone
		}
		if a.ServiceCluster != "" {
			n.Cluster = a.ServiceCluster
		}
		if a.ServiceNode != "" {
			n.Id = a.ServiceNode
		}
	}
	// server.cc validates the merged bootstrap (MessageUtil::validate).
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("%s: invalid Envoy bootstrap: %w", l.src.describe(), err)
	}
	return b, nil
}

// describe names the whole bootstrap's sources.
func (s sources) describe() string {
	switch {
	case s.path != nil && s.yaml != nil:
		return fmt.Sprintf("--config-path %s merged with --config-yaml", s.pathName)
	case s.path != nil:
		return "--config-path " + s.pathName
	default:
		return "--config-yaml"
	}
}

// checkTop checks the bootstrap's top-level fields and the simple messages
// under them.
func (l *loader) checkTop() error {
	b := l.b
	var errs []error
	if err := l.check.fields(b, "bootstrap field", "", bootstrapFields); err != nil {
		for _, e := range unjoin(err) {
			var fe *fieldError
			if errors.As(e, &fe) {
				errs = append(errs, l.from(protoreflect.Name(fe.path), e))
			}
		}
	}
	if cm := b.GetClusterManager(); cm != nil {
		if err := l.check.fields(cm, "bootstrap field", "cluster_manager", clusterManagerFields); err != nil {
			errs = append(errs, l.from("cluster_manager", err))
		}
	}
	if e := b.GetDefaultRegexEngine(); e != nil && e.GetTypedConfig().GetTypeUrl() != "type.googleapis.com/envoy.extensions.regex_engines.v3.GoogleRE2" {
		errs = append(errs, l.from("default_regex_engine", fmt.Errorf("default_regex_engine %q (%s): the sim matches regular expressions with Go's regexp, an RE2 engine, so only envoy.extensions.regex_engines.v3.GoogleRE2 is implemented", e.GetName(), e.GetTypedConfig().GetTypeUrl())))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Envoy's ADS client requires both (Config::Utility::checkLocalInfo,
	// source/common/config/utility.cc, called by GrpcMuxImpl).
	if b.GetDynamicResources().GetAdsConfig() != nil && (b.GetNode().GetId() == "" || b.GetNode().GetCluster() == "") {
		return l.from("node", errors.New("ads: node 'id' and 'cluster' are required. Set it either in 'node' config or via --service-node and --service-cluster options."))
	}
	return nil
}

// unjoin splits an errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// admin returns the admin interface's address.
func (l *loader) admin() (netip.AddrPort, error) {
	adm := l.b.GetAdmin()
	if adm == nil {
		return netip.AddrPort{}, nil
	}
	if err := l.check.fields(adm, "bootstrap field", "admin", adminFields); err != nil {
		return netip.AddrPort{}, err
	}
	if adm.GetAddress() == nil {
		return netip.AddrPort{}, nil
	}
	sa := adm.GetAddress().GetSocketAddress()
	if sa == nil || sa.GetPortValue() == 0 || sa.GetProtocol() != corev3.SocketAddress_TCP || sa.GetResolverName() != "" {
		return netip.AddrPort{}, errors.New("admin.address: the sim implements a TCP socket_address with a port_value only")
	}
	ip, err := netip.ParseAddr(sa.GetAddress())
	if err != nil || !(ip.IsLoopback() || ip == netip.IPv4Unspecified()) {
		return netip.AddrPort{}, fmt.Errorf("admin.address %q: the sim implements an admin interface on a loopback address or 0.0.0.0", sa.GetAddress())
	}
	return netip.AddrPortFrom(ip, uint16(sa.GetPortValue())), nil
}

// staticResources checks what the data plane does not: cluster names are
// unique (Envoy's ClusterManagerImpl rejects a duplicate), so the ADS
// cluster is found unambiguously.
func (l *loader) staticResources() error {
	sr := l.b.GetStaticResources()
	if sr == nil {
		return nil
	}
	if err := l.check.fields(sr, "bootstrap field", "static_resources", staticResourcesFields); err != nil {
		return err
	}
	seen := map[string]int{}
	for i, c := range sr.GetClusters() {
		if j, ok := seen[c.GetName()]; ok {
			return fmt.Errorf("static_resources.clusters[%d] and [%d] are both named %q: Envoy rejects a duplicate cluster", j, i, c.GetName())
		}
		seen[c.GetName()] = i
	}
	seen = map[string]int{}
	for i, s := range sr.GetSecrets() {
		if j, ok := seen[s.GetName()]; ok {
			return fmt.Errorf("static_resources.secrets[%d] and [%d] are both named %q: Envoy rejects a duplicate static secret", j, i, s.GetName())
		}
		seen[s.GetName()] = i
	}
	return nil
}
