package localenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
	"github.com/keyconform/keyconform/sim/kubeassets"
)

// seedKey is the API key of the seed document.
const seedKey = "N2YwMDIxZTEtNGUzNS1jNzgzLTRkYjAtYjE2YzRkZGVmNjcy"

// TestSeedWalkthrough replays the seed document on the local environment
// literally: its manifests applied with kubectl, its curl requests sent to
// the Gateway with Host www.example.com.
func TestSeedWalkthrough(t *testing.T) {
	env := startEnv(t, Options{SampleApp: true})
	ctx := t.Context()
	gw := newGatewayClient(t, env)

	gw.eventually(t, "sample app served before any policy", request{path: "/headers"}, expect{status: 200})

	kubectl(t, env, "apply", "-f", seedFile("01-secret.yaml"))
	kubectl(t, env, "apply", "-f", seedFile("02-policy-secretref.yaml"))
	gw.eventually(t, "no key", request{path: "/headers"}, expect{status: 401, body: "Client authentication failed."})
	gw.eventually(t, "key with Bearer, credential hidden upstream", request{path: "/headers", headers: map[string]string{"api-key": "Bearer " + seedKey}},
		expect{status: 200, absentUpstream: []string{"Api-Key"}})
	gw.eventually(t, "key without Bearer", request{path: "/headers", headers: map[string]string{"api-key": seedKey}}, expect{status: 200})
	gw.eventually(t, "wrong key", request{path: "/headers", headers: map[string]string{"api-key": "Bearer not-the-key"}}, expect{status: 401, body: "Client authentication failed."})

	kubectl(t, env, "apply", "-f", seedFile("03-policy-label-selector.yaml"))
	gw.eventually(t, "label selector: key accepted", request{path: "/headers", headers: map[string]string{"api-key": seedKey}}, expect{status: 200})
	kubectl(t, env, "label", "secret", "apikey", "-n", "kgateway-system", "app-")
	gw.eventually(t, "label selector: label removed, policy fails closed", request{path: "/headers", headers: map[string]string{"api-key": seedKey}},
		expect{status: 500, body: "invalid route configuration detected and replaced with a direct response."})
	kubectl(t, env, "label", "secret", "apikey", "-n", "kgateway-system", "app=httpbin")
	gw.eventually(t, "label selector: label back", request{path: "/headers", headers: map[string]string{"api-key": seedKey}}, expect{status: 200})

	kubectl(t, env, "apply", "-f", seedFile("04-policy-custom-header.yaml"))
	gw.eventually(t, "custom header", request{path: "/headers", headers: map[string]string{"X-API-KEY": seedKey}}, expect{status: 200, absentUpstream: []string{"X-Api-Key"}})
	gw.eventually(t, "default header no longer read", request{path: "/headers", headers: map[string]string{"api-key": seedKey}}, expect{status: 401})

	kubectl(t, env, "apply", "-f", seedFile("05-policy-multiple-sources.yaml"))
	gw.eventually(t, "query source", request{path: "/anything?api_key=" + seedKey + "&foo=bar"}, expect{status: 200, upstreamQuery: "foo=bar"})
	gw.eventually(t, "cookie source", request{path: "/headers", headers: map[string]string{"Cookie": "auth_token=" + seedKey + "; other=1"}},
		expect{status: 200, upstreamHeader: map[string]string{"Cookie": "other=1"}})
	gw.eventually(t, "wrong header does not fall through to a right query", request{path: "/headers?api_key=" + seedKey, headers: map[string]string{"X-API-KEY": "wrong"}}, expect{status: 401})

	kubectl(t, env, "apply", "-f", seedFile("06-policy-client-id-header.yaml"))
	gw.eventually(t, "client id forwarded, spoofed value replaced", request{path: "/headers", headers: map[string]string{"api-key": seedKey, "x-client-id": "spoofed"}},
		expect{status: 200, upstreamHeader: map[string]string{"X-Client-Id": "api-key"}})

	kubectl(t, env, "apply", "-f", seedFile("07-policy-forward-credential.yaml"))
	gw.eventually(t, "credential forwarded", request{path: "/headers", headers: map[string]string{"api-key": seedKey}},
		expect{status: 200, upstreamHeader: map[string]string{"Api-Key": seedKey}})

	kubectl(t, env, "apply", "-f", seedFile("08-policy-disable.yaml"))
	waitPolicyAccepted(ctx, t, env, types.NamespacedName{Namespace: "kgateway-system", Name: "apikey-auth-disable"}, "False")
	gw.eventually(t, "verbatim disable attaches to nothing: key still required", request{path: "/headers"}, expect{status: 401})
	kubectl(t, env, "delete", "-f", seedFile("08-policy-disable.yaml"))
	kubectl(t, env, "apply", "-f", seedFile("08-policy-disable-httpbin-ns.yaml"))
	gw.eventually(t, "disable in the route's namespace", request{path: "/headers"}, expect{status: 200})

	// Cleanup, as the doc's last step.
	kubectl(t, env, "delete", "-f", seedFile("08-policy-disable-httpbin-ns.yaml"))
	gw.eventually(t, "gateway policy back once disable is gone", request{path: "/headers"}, expect{status: 401})
	kubectl(t, env, "delete", "trafficpolicy", "apikey-auth", "-n", "kgateway-system")
	kubectl(t, env, "delete", "secret", "apikey", "-n", "kgateway-system")
	gw.eventually(t, "policy deleted", request{path: "/headers"}, expect{status: 200})
}

func startEnv(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("starting local environment: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping local environment: %v", err)
		}
	})
	return env
}

func seedFile(name string) string {
	return filepath.Join("..", "..", "fixtures", "seed", name)
}

func kubectl(t testing.TB, env *Env, args ...string) {
	t.Helper()
	bin, err := kubeassets.Binary("kubectl")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+env.KubeconfigPath())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, redactKey(string(out)))
	}
}

func waitPolicyAccepted(ctx context.Context, t testing.TB, env *Env, key types.NamespacedName, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var p v1alpha1.TrafficPolicy
		err := env.Client().Get(ctx, key, &p)
		if err == nil && accepted(p.Status).Status == metav1.ConditionStatus(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("policy %s: Accepted never became %s (err %v, status %+v)", key, want, err, p.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// accepted is the first ancestor's Accepted condition, or a zero one.
func accepted(s gwv1.PolicyStatus) metav1.Condition {
	for _, a := range s.Ancestors {
		for _, c := range a.Conditions {
			if c.Type == string(gwv1.PolicyConditionAccepted) {
				return c
			}
		}
	}
	return metav1.Condition{}
}

type request struct {
	path    string
	headers map[string]string
}

type expect struct {
	status int
	body   string // exact, when set
	// What go-httpbin echoes back as received (only checked on 200).
	upstreamHeader map[string]string
	absentUpstream []string
	upstreamQuery  string // the query string /anything received, exact
}

type gatewayClient struct {
	addr string
	http *http.Client
}

func newGatewayClient(t testing.TB, env *Env) *gatewayClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	addr, err := env.GatewayAddress(ctx, types.NamespacedName{Namespace: "kgateway-system", Name: "http"}, 8080)
	if err != nil {
		t.Fatal(err)
	}
	return &gatewayClient{addr: addr, http: &http.Client{Timeout: 5 * time.Second}}
}

// eventually retries until the response matches, as Gateway API
// conformance does: configuration reaches the data plane asynchronously.
func (g *gatewayClient) eventually(t testing.TB, what string, req request, want expect) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		mismatch := g.check(req, want)
		if mismatch == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: GET %s: %s", what, redactKey(req.path), redactKey(mismatch))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (g *gatewayClient) check(req request, want expect) string {
	r, err := http.NewRequest(http.MethodGet, "http://"+g.addr+req.path, nil)
	if err != nil {
		return err.Error()
	}
	r.Host = "www.example.com"
	for k, v := range req.headers {
		r.Header.Set(k, v)
	}
	resp, err := g.http.Do(r)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want.status {
		return fmt.Sprintf("status %d, want %d (body %q)", resp.StatusCode, want.status, body)
	}
	if want.body != "" && string(body) != want.body {
		return fmt.Sprintf("body %q, want %q", body, want.body)
	}
	if want.status != 200 {
		return ""
	}
	var echo struct {
		Headers map[string][]string `json:"headers"`
		Args    map[string][]string `json:"args"`
		URL     string              `json:"url"`
	}
	if err := json.Unmarshal(body, &echo); err != nil {
		return fmt.Sprintf("backend echo is not JSON: %v", err)
	}
	for k, v := range want.upstreamHeader {
		if got := strings.Join(echo.Headers[k], ","); got != v {
			return fmt.Sprintf("backend received %s=%q, want %q", k, got, v)
		}
	}
	for _, k := range want.absentUpstream {
		if got, ok := echo.Headers[k]; ok {
			return fmt.Sprintf("backend received %s=%q, want it removed", k, got)
		}
	}
	if want.upstreamQuery != "" {
		_, query, _ := strings.Cut(echo.URL, "?")
		if query != want.upstreamQuery {
			return fmt.Sprintf("backend received query %q, want %q", query, want.upstreamQuery)
		}
	}
	return ""
}

// redactKey keeps the tests' keys out of failure messages.
func redactKey(s string) string {
	return strings.NewReplacer(seedKey, "<redacted>", secondKey, "<redacted>").Replace(s)
}
