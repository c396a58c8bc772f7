package localenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/fixtures"
	"github.com/keyconform/keyconform/sim/kubeassets"
)

// TestGatewaysGetTheirOwnLoadBalancers: two Gateways listening on the same
// port are provisioned by the controller as on a cluster (an Envoy
// Deployment each, run as a sim from its own bootstrap); each Service gets
// its own loopback address, found as the seed document finds it, and that
// address reaches that Gateway and no other. Each pod is Running and Ready
// with its admin interface announced; a deleted pod is replaced and traffic
// comes back; deleting a Gateway removes everything provisioned for it.
func TestGatewaysGetTheirOwnLoadBalancers(t *testing.T) {
	env := startEnv(t, Options{})
	ctx := t.Context()
	const port = 8080
	var objs []client.Object
	for _, name := range []string{"east", "west"} {
		manifest := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: web
  namespace: %[1]s
spec:
  gatewayClassName: kgateway
  listeners:
  - name: http
    protocol: HTTP
    port: %[2]d
`, name, port)
		decoded, err := fixtures.Decode("gateway", []byte(manifest))
		if err != nil {
			t.Fatal(err)
		}
		if err := applyObjects(ctx, env.Client(), decoded); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, decoded[1])
	}

	kubectlBin, err := kubeassets.Binary("kubectl")
	if err != nil {
		t.Fatal(err)
	}
	kubectl := func(args ...string) (string, error) {
		out, err := exec.Command(kubectlBin, append([]string{"--kubeconfig", env.KubeconfigPath()}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	addrs := map[string]string{}
	for _, ns := range []string{"east", "west"} {
		waitFor(t, ns+" load balancer address", func() error {
			ip, err := kubectl("get", "svc", "-n", ns, "web", "-o", "jsonpath={.status.loadBalancer.ingress[0]['hostname','ip']}")
			if err != nil || ip == "" {
				return fmt.Errorf("kubectl get svc: %v: %q", err, ip)
			}
			addrs[ns] = ip
			return nil
		})
		if a, err := netip.ParseAddr(addrs[ns]); err != nil || !a.IsLoopback() {
			t.Fatalf("%s: load balancer address %q is not loopback", ns, addrs[ns])
		}
	}
	if addrs["east"] == addrs["west"] {
		t.Fatalf("both Gateways got load balancer address %s", addrs["east"])
	}
	for ns, ip := range addrs {
		waitFor(t, ns+" status address", func() error {
			var gw gwv1.Gateway
			if err := env.Client().Get(ctx, types.NamespacedName{Namespace: ns, Name: "web"}, &gw); err != nil {
				return err
			}
			if len(gw.Status.Addresses) != 1 || gw.Status.Addresses[0].Value != ip {
				return fmt.Errorf("status addresses %v, want %s", gw.Status.Addresses, ip)
			}
			if want := fmt.Sprintf("%d=%s:%d", port, ip, port); gw.Annotations[ListenerAddressesAnnotation] != want {
				return fmt.Errorf("annotation %q, want %q", gw.Annotations[ListenerAddressesAnnotation], want)
			}
			return nil
		})
		waitFor(t, ns+" reachable at its address", func() error { return expectStatus(ip, port, http.StatusNotFound) })
	}

	// The pods, as kubectl shows them.
	pod := func() (corev1.Pod, error) {
		var pods corev1.PodList
		if err := env.Client().List(ctx, &pods, client.InNamespace("east")); err != nil {
			return corev1.Pod{}, err
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && podReady(&p) {
				return p, nil
			}
		}
		return corev1.Pod{}, fmt.Errorf("no running, ready pod in east: %d pods", len(pods.Items))
	}
	var first corev1.Pod
	waitFor(t, "east's Envoy pod running and ready", func() error {
		var err error
		first, err = pod()
		return err
	})
	if ref := first.OwnerReferences; len(ref) != 1 || ref[0].Kind != "ReplicaSet" || !strings.HasPrefix(ref[0].Name, "web-") {
		t.Errorf("pod owner %v, want a ReplicaSet of Deployment web", ref)
	}
	admin := first.Annotations[AdminAddressAnnotation]
	resp, err := http.Get("http://" + admin + "/ready")
	if err != nil {
		t.Fatalf("admin %q announced on the pod: %v", admin, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("admin /ready: %d, want 200", resp.StatusCode)
	}
	if out, err := kubectl("get", "pods", "-A", "--no-headers"); err != nil || !strings.Contains(out, first.Name) || !strings.Contains(out, "Running") {
		t.Errorf("kubectl get pods -A: %v\n%s", err, out)
	}

	if out, err := kubectl("delete", "pod", "-n", "east", first.Name); err != nil {
		t.Fatalf("kubectl delete pod: %v: %s", err, out)
	}
	waitFor(t, "a new pod replacing the deleted one", func() error {
		p, err := pod()
		if err == nil && p.Name == first.Name {
			return fmt.Errorf("pod %s is still the one running", p.Name)
		}
		return err
	})
	waitFor(t, "traffic back through the new pod", func() error { return expectStatus(addrs["east"], port, http.StatusNotFound) })

	if err := env.Client().Delete(ctx, objs[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "what was provisioned for east removed with its Gateway", func() error {
		var svcs corev1.ServiceList
		var deploys appsv1.DeploymentList
		var pods corev1.PodList
		for _, l := range []client.ObjectList{&svcs, &deploys, &pods} {
			if err := env.Client().List(ctx, l, client.InNamespace("east")); err != nil {
				return err
			}
		}
		if n := len(svcs.Items) + len(deploys.Items) + len(pods.Items); n > 0 {
			return fmt.Errorf("%d services, %d deployments, %d pods left", len(svcs.Items), len(deploys.Items), len(pods.Items))
		}
		return nil
	})
	if err := expectStatus(addrs["east"], port, http.StatusNotFound); err == nil {
		t.Error("east's address still serves after its Gateway was deleted")
	}
	if err := expectStatus(addrs["west"], port, http.StatusNotFound); err != nil {
		t.Errorf("west stopped serving when east was deleted: %v", err)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func expectStatus(ip string, port, want int) error {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get(fmt.Sprintf("http://%s/", net.JoinHostPort(ip, fmt.Sprint(port))))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("status %d, want %d", resp.StatusCode, want)
	}
	return nil
}

func waitFor(t *testing.T, what string, check func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
