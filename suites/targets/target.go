// Package targets provides the environments the suites run in: sim (the
// local environment, started in process), kind (a kind cluster running the
// project's controller and Envoy, or a released implementation installed
// from its Helm charts) and cluster (whatever the current kubeconfig
// points at, with any implementation of the API).
//
// A target is started once (by Ginkgo's first parallel process) and
// attached to by every process from a Handle, so specs can run in parallel
// processes against one environment.
package targets

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/keyconform/keyconform/suites/harness"
)

// Names of the targets.
const (
	Sim     = "sim"
	Kind    = "kind"
	Cluster = "cluster"
)

// Address modes of the kind and cluster targets: how the suite reaches a
// Gateway listener. Any other value is a host (name or IP) that replaces
// the Gateway's status address, the port staying the listener's.
const (
	AddressFromStatus  = "status"
	AddressPortForward = "port-forward"
)

// Config is every target's configuration, from flags.
type Config struct {
	Target       string
	GatewayClass string
	// Implementation is the dialect the suites speak (kgateway,
	// envoy-gateway); on sim it also picks the control plane. On kind it
	// is the installed implementation's, else empty there and on cluster:
	// the GatewayClass's controllerName decides.
	Implementation string
	// Artifacts is where the target keeps logs: the sim's Envoy Gateway
	// log, kind's exported after a failure.
	Artifacts string
	Logger    *slog.Logger

	// Kubeconfig is the cluster target's kubeconfig; empty means
	// $KUBECONFIG (a list, merged) or ~/.kube/config, as for kubectl.
	Kubeconfig string
	// Context is the kubeconfig context to use; empty is its current one.
	Context string
	// GatewayAddress is the address mode of the kind and cluster targets.
	GatewayAddress string

	Kind KindConfig
}

// Handle is what a process needs to attach to a started target.
type Handle struct {
	Target         string `json:"target"`
	Kubeconfig     string `json:"kubeconfig"`
	GatewayClass   string `json:"gatewayClass"`
	GatewayAddress string `json:"gatewayAddress,omitempty"`
	Context        string `json:"context,omitempty"`
	// Dialect is the one every process speaks, decided once.
	Dialect string `json:"dialect,omitempty"`
	// PublishedFeatures are the GatewayClass's status.supportedFeatures,
	// read once.
	PublishedFeatures []string `json:"publishedFeatures,omitempty"`
	// KeySeed derives every scenario's keys (scenario.KeySeed), so the
	// process writing the reports knows them all for the leak scan.
	KeySeed []byte `json:"keySeed,omitempty"`
}

// Encode serialises h for Ginkgo's SynchronizedBeforeSuite.
func (h Handle) Encode() ([]byte, error) { return json.Marshal(h) }

// DecodeHandle is the inverse of Handle.Encode.
func DecodeHandle(data []byte) (Handle, error) {
	var h Handle
	if err := json.Unmarshal(data, &h); err != nil {
		return Handle{}, fmt.Errorf("decoding the target handle: %w", err)
	}
	return h, nil
}

// Started is a running target.
type Started interface {
	harness.Environment
	Handle() Handle
	// Stop tears the target down. failed says the run failed, so the
	// target may keep evidence (logs) under the artifacts directory.
	Stop(ctx context.Context, failed bool) error
}

// Attached is a target as a process other than the starting one sees it.
type Attached interface {
	harness.Environment
	Close() error
}

// Validate says what is wrong with cfg.
func (c Config) Validate() error {
	switch c.Target {
	case Sim:
		impl, ok := SimImplementations[c.Implementation]
		if !ok {
			return fmt.Errorf("--implementation=%q: the sim target runs kgateway (the reference controller) or envoy-gateway", c.Implementation)
		}
		if c.GatewayClass != impl.GatewayClass {
			return fmt.Errorf("--gateway-class=%s: the sim target serves GatewayClass %q for --implementation=%s; drop the flag or use --target=cluster",
				c.GatewayClass, impl.GatewayClass, c.Implementation)
		}
	case Kind, Cluster:
		if c.GatewayClass == "" {
			return fmt.Errorf("--gateway-class is empty: name the GatewayClass of the implementation under test")
		}
		if strings.TrimSpace(c.GatewayAddress) == "" {
			return fmt.Errorf("--gateway-address is empty: use %q, %q or a host", AddressFromStatus, AddressPortForward)
		}
		if c.Target == Kind {
			return c.Kind.validate(c.GatewayClass, c.Implementation)
		}
	default:
		return fmt.Errorf("--target=%q: want %s, %s or %s", c.Target, Sim, Kind, Cluster)
	}
	return nil
}

// Start starts (sim, kind) or connects to (cluster) the configured target.
func Start(ctx context.Context, cfg Config) (Started, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Target {
	case Sim:
		return startSim(ctx, cfg)
	case Kind:
		return startKind(ctx, cfg)
	default:
		return startCluster(ctx, cfg)
	}
}

// Attach connects to a target another process started.
func Attach(h Handle) (Attached, error) {
	switch h.Target {
	case Sim:
		return attachSim(h)
	case Kind, Cluster:
		return attachCluster(h)
	default:
		return nil, fmt.Errorf("target handle names unknown target %q", h.Target)
	}
}
