package targets

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"

	"github.com/keyconform/keyconform/fixtures"
	"github.com/keyconform/keyconform/internal/apiservertest"
)

// TestAwaitEstablished waits for the project's CRDs on a real API server,
// and names a CRD that never becomes established.
func TestAwaitEstablished(t *testing.T) {
	_, cfg := apiservertest.Start(t)
	res, err := resources.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	crds, err := fixtures.Objects(fixtures.FS, "crds")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := awaitEstablished(ctx, res, crds, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	missing := &unstructured.Unstructured{}
	missing.SetAPIVersion("apiextensions.k8s.io/v1")
	missing.SetKind("CustomResourceDefinition")
	missing.SetName("widgets.example.com")
	err = awaitEstablished(ctx, res, []*unstructured.Unstructured{missing}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "widgets.example.com not established") {
		t.Fatalf("error %v, want one naming the CRD that is not established", err)
	}
}
