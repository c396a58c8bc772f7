package provision

import (
	"path/filepath"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/controller/internal/deepvalidate"
	"github.com/keyconform/keyconform/internal/golden"
)

var seedGateway = types.NamespacedName{Namespace: "kgateway-system", Name: "http"}

func TestBootstrapGolden(t *testing.T) {
	_, out := seedBootstrap(t)
	golden.Compare(t, filepath.Join("testdata", "bootstrap.golden.yaml"), out, nil)
}

// The bootstrap and every message packed in an Any inside it pass their
// generated validation. The walk is independent of pack, so it also
// proves no Any escaped pack's validation.
func TestBootstrapValidatesDeep(t *testing.T) {
	b, _ := seedBootstrap(t)
	anys := 0
	w := deepvalidate.Walker{
		RequireRules: true,
		OnPacked: func(*deepvalidate.Path, *anypb.Any, proto.Message) error {
			anys++
			return nil
		},
	}
	if err := w.Walk(deepvalidate.Root("Bootstrap", seedGateway.String()), b); err != nil {
		t.Error(err)
	}
	// HCM, health check, router, upstream HTTP protocol options.
	if anys != 4 {
		t.Errorf("found %d packed messages, want 4: the walk missed some or the bootstrap changed", anys)
	}
}

// Envoy reads a .yaml bootstrap as YAML turned into JSON, parsed with the
// proto JSON mapping; the rendered file must parse back to the same proto.
func TestRenderedBootstrapParsesBack(t *testing.T) {
	b, out := seedBootstrap(t)
	j, err := yaml.YAMLToJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	var back bootstrapv3.Bootstrap
	if err := (protojson.UnmarshalOptions{}).Unmarshal(j, &back); err != nil {
		t.Fatalf("the rendered bootstrap does not parse: %v\n%s", err, out)
	}
	if !proto.Equal(b, &back) {
		t.Errorf("the rendered bootstrap parses to a different proto:\n%s", out)
	}
}

// The facts the rest of the system relies on, stated where a golden diff
// would not say why they matter.
func TestBootstrapContract(t *testing.T) {
	cfg := DefaultConfig()
	cfg.XDSAddress = "xds.example.internal:18123"
	b, err := Bootstrap(types.NamespacedName{Namespace: "team-a", Name: "edge"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.GetNode().GetId(); got != "team-a/edge" {
		t.Errorf("node id %q, want the xDS convention <namespace>/<name>", got)
	}
	admin := b.GetAdmin().GetAddress().GetSocketAddress()
	if admin.GetAddress() != "127.0.0.1" || admin.GetPortValue() != AdminPort {
		t.Errorf("admin on %s:%d, want 127.0.0.1:%d (never on the pod IP)", admin.GetAddress(), admin.GetPortValue(), AdminPort)
	}
	xds := b.GetStaticResources().GetClusters()[0]
	ep := xds.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	if xds.GetName() != xdsClusterName || ep.GetAddress() != "xds.example.internal" || ep.GetPortValue() != 18123 {
		t.Errorf("xDS cluster %s -> %s:%d, want %s -> xds.example.internal:18123", xds.GetName(), ep.GetAddress(), ep.GetPortValue(), xdsClusterName)
	}
	ads := b.GetDynamicResources().GetAdsConfig()
	if ads.GetGrpcServices()[0].GetEnvoyGrpc().GetClusterName() != xdsClusterName || b.GetDynamicResources().GetLdsConfig().GetAds() == nil || b.GetDynamicResources().GetCdsConfig().GetAds() == nil {
		t.Errorf("listeners and clusters must come over ADS from %s: %v", xdsClusterName, b.GetDynamicResources())
	}
	ready := b.GetStaticResources().GetListeners()[0].GetAddress().GetSocketAddress()
	if ready.GetAddress() != "0.0.0.0" || ready.GetPortValue() != ReadyPort {
		t.Errorf("ready listener on %s:%d, want 0.0.0.0:%d for the kubelet", ready.GetAddress(), ready.GetPortValue(), ReadyPort)
	}
}

func TestConfigValidateRejectsBadInput(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"image without tag", func(c *Config) { c.EnvoyImage = "envoyproxy/envoy" }, `envoy image "envoyproxy/envoy" is not pinned`},
		{"image latest", func(c *Config) { c.EnvoyImage = "envoyproxy/envoy:latest" }, "is not pinned"},
		{"image with a registry port but no tag", func(c *Config) { c.EnvoyImage = "registry:5000/envoy" }, "is not pinned"},
		{"image empty", func(c *Config) { c.EnvoyImage = "" }, `envoy image "": want an image reference`},
		{"image with space", func(c *Config) { c.EnvoyImage = "envoy proxy:v1" }, "want an image reference"},
		{"xds address without port", func(c *Config) { c.XDSAddress = "xds.svc" }, `xDS address "xds.svc": want host:port`},
		{"xds address port zero", func(c *Config) { c.XDSAddress = "xds.svc:0" }, `port "0" is not a number from 1 to 65535`},
		{"xds address bad host", func(c *Config) { c.XDSAddress = "under_score:18000" }, `host "under_score" is neither an IP address nor a DNS name`},
		{"service type", func(c *Config) { c.ServiceType = "ExternalName" }, `service type "ExternalName": want LoadBalancer, ClusterIP or NodePort`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	for _, ok := range []string{DefaultEnvoyImage, "envoyproxy/envoy:v1.36.2", "registry:5000/envoy:v1.40.0", "envoyproxy/envoy@sha256:" + strings.Repeat("a", 64)} {
		cfg := DefaultConfig()
		cfg.EnvoyImage = ok
		if err := cfg.Validate(); err != nil {
			t.Errorf("image %q rejected: %v", ok, err)
		}
	}
}

// seedBootstrap is the bootstrap of the seed's Gateway and its rendering.
func seedBootstrap(t *testing.T) (*bootstrapv3.Bootstrap, []byte) {
	t.Helper()
	b, err := Bootstrap(seedGateway, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	out, err := RenderBootstrap(b)
	if err != nil {
		t.Fatal(err)
	}
	return b, out
}
