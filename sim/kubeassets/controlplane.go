package kubeassets

import (
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/keyconform/keyconform/fixtures"
)

// ControlPlane is an envtest control plane running the located binaries.
// The paths are explicit because envtest itself prefers $KUBEBUILDER_ASSETS
// even when it lacks a binary that bin/k8s holds.
func ControlPlane() (envtest.ControlPlane, error) {
	paths := map[string]string{}
	for _, name := range []string{"etcd", "kube-apiserver", "kubectl"} {
		path, err := Binary(name)
		if err != nil {
			return envtest.ControlPlane{}, err
		}
		paths[name] = path
	}
	return envtest.ControlPlane{
		APIServer:   &envtest.APIServer{Path: paths["kube-apiserver"]},
		Etcd:        &envtest.Etcd{Path: paths["etcd"]},
		KubectlPath: paths["kubectl"],
	}, nil
}

// Environment is an envtest environment on ControlPlane with the project's
// CRDs (fixtures/crds) installed when it starts.
func Environment() (*envtest.Environment, error) {
	cp, err := ControlPlane()
	if err != nil {
		return nil, err
	}
	crds, err := fixtures.CRDs()
	if err != nil {
		return nil, fmt.Errorf("loading CRDs: %w", err)
	}
	return &envtest.Environment{ControlPlane: cp, CRDs: crds}, nil
}
