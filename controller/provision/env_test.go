package provision

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/keyconform/keyconform/controller/reconcile"
	"github.com/keyconform/keyconform/internal/apiservertest"
)

// One kube-apiserver and etcd (with fixtures/crds installed) serve the
// package's tests; they start on first use, so the pure tests run without.
var apiServers apiservertest.Shared

func TestMain(m *testing.M) { apiServers.Main(m) }

func testScheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := reconcile.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}
