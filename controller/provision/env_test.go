package provision

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/keyconform/keyconform/controller/reconcile"
	"github.com/keyconform/keyconform/internal/apiservertest"
)

// One kube-apiserver and etcd (with fixtures/crds installed) serve the
// package's tests; they start on first use, so the pure tests run without.
var apiServers apiservertest.Shared

func TestMain(m *testing.M) { apiServers.Main(m) }

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
	return apiServers.Client(t, testScheme(t))
}
