package kubeassets

import (
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/keyconform/keyconform/fixtures"
	"github.com/keyconform/keyconform/sim/rundir"
)

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
		wrapper, err := dir.DieWithParent(paths[name])
		if err != nil {
			return envtest.ControlPlane{}, err
		}
		paths[name] = wrapper
		if dirs[name], err = dir.Mkdir(name); err != nil {
			return envtest.ControlPlane{}, err
		}
	}
	return envtest.ControlPlane{
		APIServer:   &envtest.APIServer{Path: paths["kube-apiserver"], CertDir: dirs["kube-apiserver"]},
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
