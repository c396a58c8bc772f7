package controlplane_test

import (
	"testing"

	"github.com/keyconform/keyconform/internal/apiservertest"
)

// One kube-apiserver and etcd (with fixtures/crds installed) serve the
// package's tests.
var apiServers apiservertest.Shared

func TestMain(m *testing.M) { apiServers.Main(m) }
