package localenv

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/sim/kubeassets"
)

// TestEnvoyGatewayQuickstartAndAPIKeyAuth runs Envoy Gateway's own control
// plane on the environment, as `make run IMPL=envoy-gateway` does: its
// quickstart's GatewayClass is Accepted and Gateway Programmed by Envoy
// Gateway itself, a request through the Gateway's status address reaches
// the echo backend, and its "API Key Authentication" task replays with
// kubectl and HTTP: 401 without a key or with a wrong one, 200 with one.
func TestEnvoyGatewayQuickstartAndAPIKeyAuth(t *testing.T) {
	if _, err := kubeassets.FindEnvoyGateway(); err != nil {
		t.Fatalf("%v (make test builds it)", err)
	}
	// The quickstart's Gateway listens on port 80, which its load balancer
	// address must serve.
	if !CanBindPrivilegedPorts() {
		t.Skip("the quickstart Gateway's port 80 cannot be bound here (not root, and net.ipv4.ip_unprivileged_port_start > 80): " +
			"run as root, or lower the sysctl, to run Envoy Gateway's test")
	}
	env := startEnv(t, Options{Implementation: ImplEnvoyGateway, SampleApp: true})
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(env.EnvoyGatewayLog()); err == nil {
				t.Logf("Envoy Gateway's log:\n%s", b)
			}
		}
	})
	ctx := t.Context()
	c := env.Client()

	waitFor(t, "GatewayClass eg Accepted by Envoy Gateway", func() error {
		var gc gwv1.GatewayClass
		if err := c.Get(ctx, types.NamespacedName{Name: "eg"}, &gc); err != nil {
			return err
		}
		return conditionTrue(gc.Status.Conditions, string(gwv1.GatewayClassConditionStatusAccepted))
	})
	var addr string
	gateway, port := env.SampleGateway()
	waitFor(t, "Gateway eg Programmed, with an address", func() error {
		var gw gwv1.Gateway
		if err := c.Get(ctx, gateway, &gw); err != nil {
			return err
		}
		if err := conditionTrue(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)); err != nil {
			return err
		}
		if len(gw.Status.Addresses) == 0 {
			return fmt.Errorf("no status address")
		}
		addr = net.JoinHostPort(gw.Status.Addresses[0].Value, fmt.Sprint(port))
		return nil
	})

	get := func(key string) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/get", nil)
		if err != nil {
			return 0, nil, err
		}
		req.Host = "www.example.com"
		if key != "" {
			req.Header.Set("x-api-key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	waitFor(t, "the echo backend through the Gateway", func() error {
		status, body, err := get("")
		if err != nil {
			return err
		}
		var echo struct{ Path, Host, Namespace, Pod string }
		if status != http.StatusOK || json.Unmarshal(body, &echo) != nil {
			return fmt.Errorf("%d %q", status, body)
		}
		if echo.Path != "/get" || echo.Host != "www.example.com" || echo.Namespace != "default" || !strings.HasPrefix(echo.Pod, "backend-") {
			return fmt.Errorf("echo %+v: want path /get, host www.example.com, namespace default, a backend pod", echo)
		}
		return nil
	})

	kubectl, err := kubeassets.Binary("kubectl")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(kubectl, "--kubeconfig", env.KubeconfigPath(), "apply", "-f", "testdata/envoy-gateway-api-key-auth.yaml").CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name, key string
		want      int
	}{
		{"no key", "", http.StatusUnauthorized},
		{"wrong key", "not-a-key", http.StatusUnauthorized},
		{"client1's key", "supersecret", http.StatusOK},
		{"client2's key", "supersecret2", http.StatusOK},
	} {
		waitFor(t, tc.name, func() error {
			status, body, err := get(tc.key)
			if err != nil {
				return err
			}
			if status != tc.want {
				return fmt.Errorf("%d %q, want %d", status, body, tc.want)
			}
			return nil
		})
	}
}

func conditionTrue(conds []metav1.Condition, t string) error {
	c := meta.FindStatusCondition(conds, t)
	if c == nil || c.Status != metav1.ConditionTrue {
		return fmt.Errorf("condition %s: %+v", t, c)
	}
	return nil
}
