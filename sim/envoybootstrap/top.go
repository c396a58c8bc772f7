package envoybootstrap

import (
	"errors"
	"fmt"
	"net/netip"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

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
