package dialect_test

import (
	"context"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/keyconform/keyconform/internal/apiservertest"
	"github.com/keyconform/keyconform/sim/kubeassets"
	"github.com/keyconform/keyconform/suites/dialect"
	"github.com/keyconform/keyconform/suites/scenario"
	"github.com/keyconform/keyconform/suites/scenarios"
)

// TestEveryScenarioRendersInEveryDialect renders every policy of every
// scenario in every dialect and creates it, as a dry run with strict field
// validation, on a real API server with kgateway's TrafficPolicy CRD (the
// reference controller's) and Envoy Gateway's own CRDs: a field a CRD does
// not know, or a value it rejects, fails the test. A policy a dialect
// cannot express must say why (an UnsupportedError), never fail otherwise.
func TestEveryScenarioRendersInEveryDialect(t *testing.T) {
	c := apiServer(t)
	ctx := context.Background()
	rendered := map[string]int{}
	for _, s := range scenarios.Catalog.All() {
		objs, err := scenario.PolicyManifests(s, scenarios.Manifests)
		if err != nil {
			t.Fatalf("%s: %v", s.ShortName, err)
		}
		for _, d := range dialect.All {
			for _, u := range objs {
				out, err := dialect.RenderObject(d, u)
				if _, ok := dialect.Unsupported(err); ok {
					continue
				}
				if err != nil {
					t.Errorf("%s, %s dialect: %v", s.ShortName, d.Name(), err)
					continue
				}
				obj := out.(*unstructured.Unstructured).DeepCopy()
				ensureNamespace(t, c, obj.GetNamespace())
				if err := c.Create(ctx, obj, client.DryRunAll, client.FieldValidation(metav1.FieldValidationStrict)); err != nil {
					t.Errorf("%s, %s dialect: %s %s/%s is refused: %v", s.ShortName, d.Name(), obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
					continue
				}
				rendered[d.Name()]++
			}
		}
	}
	for _, d := range dialect.All {
		if rendered[d.Name()] == 0 {
			t.Errorf("the %s dialect rendered no policy at all", d.Name())
		}
	}
	t.Logf("policies created (dry run) per dialect: %v", rendered)
}

func apiServer(t *testing.T) client.Client {
	t.Helper()
	env, err := kubeassets.Environment(apiservertest.RunDir(t))
	if err != nil {
		t.Fatal(err)
	}
	eg, err := kubeassets.FindEnvoyGateway()
	if err != nil {
		t.Fatal(err)
	}
	env.CRDInstallOptions = envtest.CRDInstallOptions{Paths: []string{filepath.Join(eg.CRDs, "gateway.envoyproxy.io_securitypolicies.yaml")}}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting kube-apiserver and etcd (envtest): %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping kube-apiserver and etcd: %v", err)
		}
	})
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ensureNamespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(context.Background(), ns); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
}
