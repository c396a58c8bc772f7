package kubeassets_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/keyconform/keyconform/internal/apiservertest"
	"github.com/keyconform/keyconform/sim/kubeassets"
)

// TestEnvtestStarts proves the located binaries run a real control plane:
// envtest starts etcd and kube-apiserver, which answer a namespace list.
// Without binaries it fails with the advice to run `make tools`.
func TestEnvtestStarts(t *testing.T) {
	cp, err := kubeassets.ControlPlane(apiservertest.RunDir(t))
	if err != nil {
		t.Fatal(err)
	}
	env := &envtest.Environment{ControlPlane: cp}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting envtest with %s: %v", cp.APIServer.Path, err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})

	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// kube-apiserver creates its system namespaces just after it reports
	// ready, so poll for them.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	want := []string{"default", "kube-system"}
	for {
		list, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("listing namespaces: %v", err)
		}
		found := map[string]bool{}
		for _, ns := range list.Items {
			found[ns.Name] = true
		}
		var missing []string
		for _, name := range want {
			if !found[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("namespaces %v never appeared; the server lists %v", missing, found)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
