package provision

import (
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/keyconform/keyconform/controller/reconcile"
	"github.com/keyconform/keyconform/internal/apiservertest"
)

// One kube-apiserver and etcd (with fixtures/crds installed) serve the
// package's tests; they start on first use, so the pure tests run without.
var apiServers apiservertest.Shared

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	code := m.Run()
	if err := apiServers.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping envtest: %v\n", err)
	}
	os.Exit(code)
}

// apiServer returns the shared API server's config, failing (never
// skipping) the test when the binaries are missing.
func apiServer(t testing.TB) *rest.Config {
	t.Helper()
	return apiServers.Config(t)
}

func testScheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := reconcile.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// directClient talks to the API server without a cache, as kubectl does.
func directClient(t testing.TB) client.Client {
	t.Helper()
	c, err := client.New(apiServer(t), client.Options{Scheme: testScheme(t)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
