package kubeassets

import (
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/keyconform/keyconform/fixtures"
	"github.com/keyconform/keyconform/sim/rundir"
)

// lessGC trades memory for CPU in etcd and kube-apiserver. The suites run
// an implementation, its data planes and the API server on the same cores,
// and the API server takes about half of them; with this and priority and
// fairness off, its CPU time in a run of the suites fell from about 31 s to
// 26 s, and the run from about 34 s to 30 s (2 cores).
const lessGC = "GOGC=400"

// ControlPlane is an envtest control plane running the located binaries.
// The paths are explicit because envtest itself prefers $KUBEBUILDER_ASSETS
// even when it lacks a binary that bin/k8s holds. etcd and kube-apiserver
// die with this process and keep their data and certificates in dir, so
// that nothing of them outlives a killed test or environment beyond the
// next rundir.Claim.
func ControlPlane(dir *rundir.Dir) (envtest.ControlPlane, error) {
	paths := map[string]string{}
	for _, name := range []string{"etcd", "kube-apiserver", "kubectl"} {
		path, err := Binary(name)
		if err != nil {
			return envtest.ControlPlane{}, err
		}
		paths[name] = path
	}
	dirs := map[string]string{}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		wrapper, err := dir.DieWithParent(paths[name], lessGC)
		if err != nil {
			return envtest.ControlPlane{}, err
		}
		paths[name] = wrapper
		if dirs[name], err = dir.Mkdir(name); err != nil {
			return envtest.ControlPlane{}, err
		}
	}
	api := &envtest.APIServer{Path: paths["kube-apiserver"], CertDir: dirs["kube-apiserver"]}
	// One client set shares this API server: fairness between flows only
	// costs CPU here.
	api.Configure().Set("enable-priority-and-fairness", "false")
	// Every client is on loopback: gzip of responses, watch streams
	// flushed event by event above all, only costs CPU (about 6% of the API
	// server's in a run of the suites on Envoy Gateway).
	api.Configure().Append("feature-gates", "APIResponseCompression=false")
	return envtest.ControlPlane{
		APIServer:   api,
		Etcd:        &envtest.Etcd{Path: paths["etcd"], DataDir: dirs["etcd"]},
		KubectlPath: paths["kubectl"],
	}, nil
}

// Environment is an envtest environment on ControlPlane with the project's
// CRDs (fixtures/crds) installed when it starts.
func Environment(dir *rundir.Dir) (*envtest.Environment, error) {
	cp, err := ControlPlane(dir)
	if err != nil {
		return nil, err
	}
	crds, err := fixtures.CRDs()
	if err != nil {
		return nil, fmt.Errorf("loading CRDs: %w", err)
	}
	return &envtest.Environment{ControlPlane: cp, CRDs: crds}, nil
}
