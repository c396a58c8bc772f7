package reconcile

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/xds"
	"github.com/keyconform/keyconform/internal/apiservertest"
	"github.com/keyconform/keyconform/internal/logcapture"
)

// One kube-apiserver and etcd serve every test of the package; they start
// on first use, so the pure tests run without them.
var apiServers apiservertest.Shared

func TestMain(m *testing.M) { apiServers.Main(m) }

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// controllerUnderTest is a running manager with the controller, and the
// xDS server it publishes to, both on loopback.
type controllerUnderTest struct {
	xdsAddress    string
	healthAddress string
	logs          *logcapture.Buffer
}

// gatewayAddress is what the test's AddressSource reports for every Gateway.
const gatewayAddress = "127.0.0.1"

func startController(t testing.TB, debounce time.Duration) *controllerUnderTest {
	t.Helper()
	cfg := apiServers.Config(t)
	logs := &logcapture.Buffer{}
	logger := slogTo(logs)
	health := freeLoopbackPort(t)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 apiservertest.Scheme(t, AddToScheme),
		Logger:                 logr.FromSlogHandler(logger.Handler()),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: health,
	})
	if err != nil {
		t.Fatal(err)
	}
	server := xds.NewServer(logger.With("component", "xds"))
	ip := gwv1.IPAddressType
	err = SetupWithManager(mgr, server, Options{
		Logger:   logger.With("component", "reconcile"),
		Debounce: debounce,
		Addresses: func(types.NamespacedName) []gwv1.GatewayStatusAddress {
			return []gwv1.GatewayStatusAddress{{Type: &ip, Value: gatewayAddress}}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- mgr.Start(ctx) }()
	go func() { done <- server.Serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("controller stopped with: %v", err)
			}
		}
	})
	return &controllerUnderTest{xdsAddress: lis.Addr().String(), healthAddress: health, logs: logs}
}

// freeLoopbackPort picks a port for a server that only takes an address.
func freeLoopbackPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func eventually(t testing.TB, what string, check func() error) {
	t.Helper()
	apiservertest.Eventually(t, what, 20*time.Second, check)
}
