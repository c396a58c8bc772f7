package xds

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	k8stypes "k8s.io/apimachinery/pkg/types"

	"github.com/keyconform/keyconform/controller/translate"
)

// ProxyError says why one Gateway's configuration was not published. Its
// message never contains an API key value or a private key.
type ProxyError struct {
	Gateway k8stypes.NamespacedName
	Err     error
}

func (e ProxyError) Error() string {
	return fmt.Sprintf("gateway %s: %v", e.Gateway, e.Err)
}

func (e ProxyError) Unwrap() error { return e.Err }

// PublishError lists the Gateways whose configuration was rejected. The
// other Gateways of the same Publish call were published.
type PublishError struct {
	Proxies []ProxyError
}

func (e *PublishError) Error() string {
	msgs := make([]string, len(e.Proxies))
	for i, p := range e.Proxies {
		msgs[i] = p.Error()
	}
	return "xDS configuration not published: " + strings.Join(msgs, "; ")
}

func (e *PublishError) Unwrap() []error {
	errs := make([]error, len(e.Proxies))
	for i, p := range e.Proxies {
		errs[i] = p
	}
	return errs
}

// nodeState is what the server last published for one node.
type nodeState struct {
	versions versions
	// keys are the secret values (API keys, TLS private keys) in the
	// current snapshot and prevKeys those of the one before, which a NACK
	// arriving late may concern: both are redacted from anything the data
	// plane sends back.
	keys, prevKeys map[string]struct{}
	// gone: the Gateway disappeared while its data plane was connected.
	// The node holds an empty snapshot until its last stream closes.
	gone bool
}

// Publish makes proxies the complete configuration: one snapshot per
// Gateway under node id translate.NodeID(gateway). A proxy that fails
// validation is not published (its node keeps the previous snapshot) and is
// reported in a *PublishError; the others are published regardless. Nodes
// of Gateways absent from proxies are cleared: a connected data plane gets
// an empty configuration, and the snapshot is dropped once it disconnects.
func (s *Server) Publish(ctx context.Context, proxies []translate.Proxy) error {
	type built struct {
		node string
		snap *cachev3.Snapshot
		vers versions
		keys map[string]struct{}
	}
	var (
		ready  []built
		failed []ProxyError
		seen   = make(map[string]bool, len(proxies))
	)
	for _, p := range proxies {
		node := translate.NodeID(p.Gateway)
		if seen[node] {
			failed = append(failed, ProxyError{p.Gateway, errors.New("listed twice in one publish")})
			continue
		}
		seen[node] = true
		if p.NodeID != "" && p.NodeID != node {
			failed = append(failed, ProxyError{p.Gateway, fmt.Errorf("node id %q does not follow the convention %q", p.NodeID, node)})
			continue
		}
		snap, vers, keys, err := buildSnapshot(p)
		if err != nil {
			failed = append(failed, ProxyError{p.Gateway, err})
			continue
		}
		ready = append(ready, built{node, snap, vers, keys})
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range ready {
		st := s.published[b.node]
		if st != nil && !st.gone && st.versions == b.vers {
			continue
		}
		if err := s.cache.SetSnapshot(ctx, b.node, b.snap); err != nil {
			return fmt.Errorf("setting the snapshot of node %s: %w", b.node, err)
		}
		next := &nodeState{versions: b.vers, keys: b.keys}
		switch {
		case st != nil && st.gone:
			next.prevKeys = st.prevKeys
		case st != nil:
			next.prevKeys = st.keys
		}
		s.published[b.node] = next
		s.log.Info("published xDS snapshot", "node", b.node, "versions", b.vers)
	}
	for node := range s.published {
		if !seen[node] {
			if err := s.clearLocked(ctx, node); err != nil {
				return err
			}
		}
	}
	for _, f := range failed {
		s.log.Error("xDS configuration rejected; the data plane keeps its previous one",
			"node", translate.NodeID(f.Gateway), "error", f.Err)
	}
	if len(failed) > 0 {
		return &PublishError{Proxies: failed}
	}
	return nil
}

// clearLocked withdraws the configuration of a Gateway that disappeared.
// Dropping the snapshot of a node with open streams would leave those
// streams waiting on nothing, even if the Gateway came back; an empty
// snapshot instead removes the data plane's listeners (fail closed) and
// keeps the streams served.
func (s *Server) clearLocked(ctx context.Context, node string) error {
	st := s.published[node]
	if s.connected[node] == 0 {
		s.cache.ClearSnapshot(node)
		delete(s.published, node)
		s.log.Info("cleared xDS snapshot of a removed Gateway", "node", node)
		return nil
	}
	if st.gone {
		return nil
	}
	snap, vers, err := newSnapshot(nil, nil, nil, nil, nil)
	if err != nil {
		return err
	}
	if err := s.cache.SetSnapshot(ctx, node, snap); err != nil {
		return fmt.Errorf("emptying the snapshot of node %s: %w", node, err)
	}
	s.published[node] = &nodeState{versions: vers, prevKeys: st.keys, gone: true}
	s.log.Info("sent an empty configuration to the data plane of a removed Gateway", "node", node)
	return nil
}

// buildSnapshot validates and canonicalises one proxy's resources. The
// error names the failing resource and never contains an API key or a
// private key.
func buildSnapshot(p translate.Proxy) (*cachev3.Snapshot, versions, map[string]struct{}, error) {
	in := newInspection()
	listeners := collect(in, "Listener", p.Listeners)
	routes := collect(in, "RouteConfiguration", p.Routes)
	clusters := collect(in, "Cluster", p.Clusters)
	endpoints := collect(in, "ClusterLoadAssignment", p.Endpoints)
	secrets := collect(in, "Secret", p.Secrets)
	if err := in.err(); err != nil {
		return nil, versions{}, nil, errors.New(redact(err.Error(), in.keys))
	}
	if err := checkSecretNames(in.sdsNames, secrets); err != nil {
		return nil, versions{}, nil, errors.New(redact(err.Error(), in.keys))
	}
	snap, vers, err := newSnapshot(listeners, routes, clusters, endpoints, secrets)
	if err != nil {
		return nil, versions{}, nil, errors.New(redact(err.Error(), in.keys))
	}
	return snap, vers, in.keys, nil
}

// newSnapshot assembles a consistent snapshot whose per-type versions are
// content hashes.
func newSnapshot(listeners, routes, clusters, endpoints, secrets []types.Resource) (*cachev3.Snapshot, versions, error) {
	var vers versions
	snap := &cachev3.Snapshot{}
	for typ, items := range map[types.ResponseType][]types.Resource{
		types.Listener: listeners,
		types.Route:    routes,
		types.Cluster:  clusters,
		types.Endpoint: endpoints,
		types.Secret:   secrets,
	} {
		v, err := contentVersion(items)
		if err != nil {
			return nil, versions{}, err
		}
		vers.set(typ, v)
		snap.Resources[typ] = cachev3.NewResources(v, items)
	}
	if err := snap.Consistent(); err != nil {
		return nil, versions{}, fmt.Errorf("inconsistent snapshot: %w", err)
	}
	return snap, vers, nil
}
