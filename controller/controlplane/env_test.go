package controlplane_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/keyconform/keyconform/controller/reconcile"
	"github.com/keyconform/keyconform/internal/apiservertest"
)

// One kube-apiserver and etcd (with fixtures/crds installed) serve the
// package's tests.
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
