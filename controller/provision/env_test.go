package provision

import (
	"testing"

	"github.com/keyconform/keyconform/internal/apiservertest"
)

// One kube-apiserver and etcd (with fixtures/crds installed) serve the
// package's tests; they start on first use, so the pure tests run without.
var apiServers apiservertest.Shared

func TestMain(m *testing.M) { apiServers.Main(m) }
