package harness

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// awaitObject follows the object through a watch: it sees an object that
// does not exist yet when the wait starts, and each later change, and
// times out with the last explanation when none satisfies it.
func TestAwaitObjectFollowsChanges(t *testing.T) {
	res, _ := apiResources(t)
	ctx := context.Background()
	kind := schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	ready := func(u *unstructured.Unstructured) string {
		if v, _, _ := unstructured.NestedString(u.Object, "data", "state"); v != "ready" {
			return "state is " + v
		}
		return ""
	}

	done := make(chan error, 1)
	go func() {
		done <- awaitObject(ctx, res, kind, "default", "followed", 20*time.Second, 5*time.Second, ready)
	}()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "followed", Namespace: "default"}, Data: map[string]string{"state": "starting"}}
	time.Sleep(200 * time.Millisecond) // the wait has read "not found" and watches
	if err := res.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("the wait ended before the object was ready: %v", err)
	default:
	}
	cm.Data["state"] = "ready"
	if err := res.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the wait did not see the object become ready")
	}

	cm.Data["state"] = "stuck"
	if err := res.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	err := awaitObject(ctx, res, kind, "default", "followed", 300*time.Millisecond, 5*time.Second, ready)
	if err == nil || !strings.Contains(err.Error(), "state is stuck") {
		t.Fatalf("error %v, want a timeout saying the state is stuck", err)
	}
}
