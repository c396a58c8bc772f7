package localenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// secondKey is client2's key, added while client1's key is held twice.
const secondKey = "b1d7c0e4-2f9a-4c55-9a0e-6f3e2d1c0b9a"

// TestDuplicateKeysNeverReachTheDataPlane follows kgateway's end-to-end
// TestAPIKeyAuthDuplicateKeyValues (test/e2e/features/apikeyauth/suite.go).
// Envoy's api_key_auth filter refuses a credential list holding a key twice
// ("Duplicated credential key", api_key_auth.cc), and a rejected
// RouteConfiguration leaves the listener answering from its previous
// version, which status codes alone cannot tell from a working one. So the
// steps check what a frozen listener could not show: the data plane's
// update_rejected counters never move, and a client added while the
// identical duplicate exists takes effect. The conflicting duplicate fails
// in translation instead: policy Invalid naming the clients, not the key,
// and the route replaced with a 500.
func TestDuplicateKeysNeverReachTheDataPlane(t *testing.T) {
	env := startEnv(t, Options{SampleApp: true})
	gw := newGatewayClient(t, env)
	gw.eventually(t, "sample app served before any policy", request{path: "/headers"}, expect{status: 200})
	noneRejected := func(step string) {
		t.Helper()
		if rejected := updatesRejected(t, env); rejected != 0 {
			t.Fatalf("%s: the data plane rejected %d configuration updates, want 0", step, rejected)
		}
	}
	withKey := func(key string) request {
		return request{path: "/headers", headers: map[string]string{"api-key": key}}
	}
	client := func(id string) expect {
		return expect{status: 200, upstreamHeader: map[string]string{"X-Client-Id": id}}
	}

	kubectl(t, env, "apply", "-f", "testdata/identical-duplicate-keys.yaml")
	gw.eventually(t, "identical duplicate collapsed", withKey(seedKey), client("client1"))
	gw.eventually(t, "identical duplicate: no key", request{path: "/headers"}, expect{status: 401})
	noneRejected("identical duplicate")

	kubectl(t, env, "create", "secret", "generic", "keys-new-client", "-n", "kgateway-system", "--from-literal=client2="+secondKey)
	kubectl(t, env, "label", "secret", "keys-new-client", "-n", "kgateway-system", "dup=identical")
	gw.eventually(t, "client added while the duplicate exists", withKey(secondKey), client("client2"))
	noneRejected("client added")

	kubectl(t, env, "create", "secret", "generic", "keys-conflict", "-n", "kgateway-system", "--from-literal=client3="+seedKey)
	kubectl(t, env, "label", "secret", "keys-conflict", "-n", "kgateway-system", "dup=identical")
	policy := types.NamespacedName{Namespace: "kgateway-system", Name: "apikey-auth"}
	waitPolicyAccepted(t.Context(), t, env, policy, "False")
	var p v1alpha1.TrafficPolicy
	if err := env.Client().Get(t.Context(), policy, &p); err != nil {
		t.Fatal(err)
	}
	msg := accepted(p.Status).Message
	if !strings.Contains(msg, "client1") || !strings.Contains(msg, "client3") || strings.Contains(msg, seedKey) {
		t.Errorf("conflict status message %q: want both clients named and no key", redactKey(msg))
	}
	gw.eventually(t, "conflicting duplicate replaces the route", withKey(seedKey),
		expect{status: 500, body: "invalid route configuration detected and replaced with a direct response."})
	noneRejected("conflicting duplicate")

	kubectl(t, env, "delete", "secret", "keys-conflict", "-n", "kgateway-system")
	gw.eventually(t, "conflict removed", withKey(seedKey), client("client1"))
	gw.eventually(t, "conflict removed: no key", request{path: "/headers"}, expect{status: 401})
	noneRejected("conflict removed")
}

// updatesRejected sums the sample Gateway's data plane's *.update_rejected
// counters (LDS, CDS, RDS, EDS), failing when there are none: an empty sum
// would prove nothing.
func updatesRejected(t testing.TB, env *Env) uint64 {
	t.Helper()
	var total uint64
	counters := 0
	for name, v := range adminStats(t, env) {
		if strings.HasSuffix(name, ".update_rejected") {
			total += v
			counters++
		}
	}
	if counters == 0 {
		t.Fatal("the data plane's /stats has no update_rejected counter")
	}
	return total
}

// adminStats reads the counters of the sample Gateway's data plane from its
// admin interface, as `curl <admin>/stats` shows them.
func adminStats(t testing.TB, env *Env) map[string]uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	gateway, _ := env.SampleGateway()
	admin, err := env.AdminAddress(ctx, gateway)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + admin + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	stats, err := parseStats(resp.Body)
	if err != nil {
		t.Fatalf("reading %s/stats: %v", admin, err)
	}
	return stats
}

// parseStats reads the admin's text format, "name: value" per line, keeping
// counters and gauges (histograms and text stats have no single value).
func parseStats(r io.Reader) (map[string]uint64, error) {
	stats := map[string]uint64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			return nil, fmt.Errorf("line %q is not name: value", sc.Text())
		}
		if v, err := strconv.ParseUint(value, 10, 64); err == nil {
			stats[name] = v
		}
	}
	return stats, sc.Err()
}
