package envoybootstrap

import (
	"errors"
	"fmt"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

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
