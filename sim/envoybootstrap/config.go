package envoybootstrap

import (
	"crypto/tls"
	"net/netip"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
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
