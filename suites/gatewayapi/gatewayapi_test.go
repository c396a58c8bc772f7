package gatewayapi

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientset "k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	v1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/apis/v1alpha2"
	"sigs.k8s.io/gateway-api/apis/v1alpha3"
	xv1alpha1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"
	"sigs.k8s.io/gateway-api/conformance"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"

	"github.com/keyconform/keyconform/sim/localenv"
	"github.com/keyconform/keyconform/suites/harness"
	"github.com/keyconform/keyconform/suites/run"
	"github.com/keyconform/keyconform/suites/targets"
)

var flags = RegisterFlags(flag.CommandLine)

// TestGatewayAPIConformance runs the upstream suite's GATEWAY-HTTP profile
// on the local environment with the chosen control plane:
//
//	go test ./suites/gatewayapi -run TestGatewayAPIConformance -args --implementation=envoy-gateway
func TestGatewayAPIConformance(t *testing.T) {
	opts, err := flags.Options()
	if err != nil {
		t.Fatal(err)
	}
	if !localenv.CanBindPrivilegedPorts() {
		t.Skip("the suite's Gateways listen on ports 80 and 443, which cannot be bound here (not root, and net.ipv4.ip_unprivileged_port_start > 80): " +
			"run as root or lower that sysctl")
	}
	ctx := context.Background()
	if err := os.MkdirAll(opts.ReportDir, 0o755); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(opts.Target.Artifacts + ".log")
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	opts.Target.Logger = slog.New(slog.NewTextHandler(log, nil))
	if err := run.RouteKlog(log); err != nil {
		t.Fatal(err)
	}
	env, err := targets.Start(ctx, opts.Target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(context.Background(), t.Failed()); err != nil {
			t.Error(err)
		}
	})
	// Tests start once the implementation accepted its GatewayClass.
	if _, err := harness.AwaitGatewayClass(ctx, env, harness.DefaultTimeoutConfig()); err != nil {
		t.Fatal(err)
	}
	cfg := env.RESTConfig()
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, install := range []func(*runtime.Scheme) error{v1alpha3.Install, v1alpha2.Install, xv1alpha1.Install, v1.Install, apiextensionsv1.AddToScheme} {
		if err := install(c.Scheme()); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := clientset.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conformance.RunConformanceWithOptions(t, suite.ConformanceOptions{
		ConfigurableOptions: opts.Suite,
		Client:              c,
		Clientset:           cs,
		RestConfig:          cfg,
	})
}
