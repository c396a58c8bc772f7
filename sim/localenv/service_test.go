package localenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/fixtures"
	"github.com/keyconform/keyconform/sim/kubeassets"
)

// TestGatewayServiceAddress follows the seed document's way of finding the
// gateway: the Service named after the Gateway reports a load balancer
// address, and that address with the listener port reaches the gateway.
// The Gateway carries where its listener is served. Deleting the Gateway
// removes the Service.
func TestGatewayServiceAddress(t *testing.T) {
	port := freePort(t)
	env := startEnv(t, Options{FixedPorts: true})
	ctx := t.Context()
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: edge
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: web
  namespace: edge
spec:
  gatewayClassName: kgateway
  listeners:
  - name: http
    protocol: HTTP
    port: %d
`, port)
	objs, err := fixtures.Decode("gateway", []byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if err := applyObjects(ctx, env.Client(), objs); err != nil {
		t.Fatal(err)
	}

	kubectlBin, err := kubeassets.Binary("kubectl")
	if err != nil {
		t.Fatal(err)
	}
	var ip string
	waitFor(t, "service load balancer address", func() error {
		out, err := exec.Command(kubectlBin, "--kubeconfig", env.KubeconfigPath(), "get", "svc", "-n", "edge", "web",
			"-o", "jsonpath={.status.loadBalancer.ingress[0]['hostname','ip']}").CombinedOutput()
		ip = strings.TrimSpace(string(out))
		if err != nil || ip == "" {
			return fmt.Errorf("kubectl get svc: %v: %q", err, out)
		}
		return nil
	})
	if ip != "127.0.0.1" {
		t.Fatalf("load balancer address %q, want 127.0.0.1", ip)
	}
	url := fmt.Sprintf("http://%s/", net.JoinHostPort(ip, fmt.Sprint(port)))
	waitFor(t, "gateway reachable at the service address", func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound { // no routes yet: Envoy's 404
			return fmt.Errorf("status %d, want 404", resp.StatusCode)
		}
		return nil
	})

	waitFor(t, "listener addresses announced on the gateway", func() error {
		var gw gwv1.Gateway
		if err := env.Client().Get(ctx, types.NamespacedName{Namespace: "edge", Name: "web"}, &gw); err != nil {
			return err
		}
		want := fmt.Sprintf("%d=127.0.0.1:%d", port, port)
		if got := gw.Annotations[ListenerAddressesAnnotation]; got != want {
			return fmt.Errorf("annotation %q, want %q", got, want)
		}
		return nil
	})

	for _, o := range objs[1:] {
		if err := env.Client().Delete(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "service removed with its gateway", func() error {
		err := env.Client().Get(ctx, types.NamespacedName{Namespace: "edge", Name: "web"}, &corev1.Service{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("service still there (err %v)", err)
	})
}

func freePort(t *testing.T) uint32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint32(l.Addr().(*net.TCPAddr).Port)
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

// TestGatewayServiceLeavesOthersAlone: a Gateway named like an existing
// Service (here the sample app's backend) must not take that Service over.
func TestGatewayServiceLeavesOthersAlone(t *testing.T) {
	env := startEnv(t, Options{SampleApp: true})
	ctx := t.Context()
	objs, err := fixtures.Decode("gateway", []byte(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: httpbin
  namespace: httpbin
spec:
  gatewayClassName: kgateway
  listeners:
  - name: http
    protocol: HTTP
    port: 9090
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := applyObjects(ctx, env.Client(), objs); err != nil {
		t.Fatal(err)
	}
	// The Gateway's data plane comes up, and its listener address is
	// announced, while the backend Service keeps its own selector and port.
	waitFor(t, "data plane of the gateway", func() error {
		var gw gwv1.Gateway
		if err := env.Client().Get(ctx, types.NamespacedName{Namespace: "httpbin", Name: "httpbin"}, &gw); err != nil {
			return err
		}
		if gw.Annotations[ListenerAddressesAnnotation] == "" {
			return fmt.Errorf("no listener addresses yet")
		}
		return nil
	})
	var svc corev1.Service
	if err := env.Client().Get(ctx, types.NamespacedName{Namespace: "httpbin", Name: "httpbin"}, &svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Selector["app"] != "httpbin" || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 8000 {
		t.Errorf("backend Service changed: selector %v, ports %v", svc.Spec.Selector, svc.Spec.Ports)
	}
}
