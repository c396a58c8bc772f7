package translate

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/controller/internal/deepvalidate"
	"github.com/keyconform/keyconform/internal/logcapture"
)

// TestNoKeyOutsideXDS: statuses are read by anyone who can list objects;
// a key value must never appear in them, nor in anything logged while
// translating. The xDS itself does carry keys (that is the configuration).
func TestNoKeyOutsideXDS(t *testing.T) {
	logs := captureLogs(t)
	casesWithKeys := 0
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			in := loadCase(t, c)
			keys := inputKeys(in)
			if len(keys) > 0 {
				casesWithKeys++
			}
			statuses, err := json.Marshal(renderStatuses(Translate(in)))
			if err != nil {
				t.Fatal(err)
			}
			for i, k := range keys {
				if bytes.Contains(statuses, []byte(k)) {
					t.Errorf("statuses contain the value of input key #%d (of %d)", i, len(keys))
				}
				if strings.Contains(logs.String(), k) {
					t.Errorf("logs contain the value of input key #%d (of %d)", i, len(keys))
				}
			}
		})
	}
	if casesWithKeys < 10 {
		t.Errorf("only %d cases hold keys: the check above tests too little", casesWithKeys)
	}
}

// TestConflictNamesClientsNotKey: the one status that talks about a key
// value (two clients sharing it) names the clients and Secrets instead.
func TestConflictNamesClientsNotKey(t *testing.T) {
	in := loadCase(t, goldenCase{name: "invalid-key-shared-by-two-clients"})
	out := Translate(in)
	st := out.TrafficPolicies[keyOf("kgateway-system", "apikey-auth")]
	if len(st.Ancestors) != 1 {
		t.Fatalf("want 1 ancestor, got %d", len(st.Ancestors))
	}
	msg := st.Ancestors[0].Conditions[0].Message
	for _, want := range []string{`"client1"`, `"client2"`, "kgateway-system/keys-a", "kgateway-system/keys-b"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Accepted message %q does not name %s", redactKeys(msg, inputKeys(in)), want)
		}
	}
	if strings.Contains(msg, "k-123") {
		t.Errorf("Accepted message quotes the shared key")
	}
}

// TestResourcesValidate: Envoy rejects a whole RouteConfiguration (and
// keeps stale config) for one bad per-route config, so every resource of
// every case must pass the generated validation, including the configs
// packed in Any, and no ApiKeyAuthPerRoute may list a key twice.
func TestResourcesValidate(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range Translate(loadCase(t, c)).Proxies {
				checkProxy(t, p, nil)
			}
		})
	}
}

// checkProxy validates every resource of p, and calls route, when set, for
// each route with the API key auth config Envoy would use for it: the
// most specific of the route's, its virtual host's and its route
// configuration's (nil for none).
func checkProxy(t *testing.T, p Proxy, route func(r *routev3.Route, auth *anypb.Any)) {
	t.Helper()
	for _, l := range p.Listeners {
		mustValidate(t, "Listener", l.GetName(), l)
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				if !f.GetTypedConfig().MessageIs(&hcmv3.HttpConnectionManager{}) {
					t.Errorf("listener %s: filter %s holds %s, want an HTTP connection manager", l.GetName(), f.GetName(), f.GetTypedConfig().GetTypeUrl())
				}
			}
		}
	}
	for _, rc := range p.Routes {
		mustValidate(t, "RouteConfiguration", rc.GetName(), rc)
		checkPerFilter(t, rc.GetTypedPerFilterConfig())
		for _, vh := range rc.GetVirtualHosts() {
			checkPerFilter(t, vh.GetTypedPerFilterConfig())
			for _, r := range vh.GetRoutes() {
				if r.GetAction() == nil {
					t.Errorf("route %s has no action", r.GetName())
				}
				checkPerFilter(t, r.GetTypedPerFilterConfig())
				if route == nil {
					continue
				}
				auth, ok := r.GetTypedPerFilterConfig()[apiKeyAuthFilterName]
				if !ok {
					auth, ok = vh.GetTypedPerFilterConfig()[apiKeyAuthFilterName]
				}
				if !ok {
					auth = rc.GetTypedPerFilterConfig()[apiKeyAuthFilterName]
				}
				route(r, auth)
			}
		}
	}
	for _, cl := range p.Clusters {
		mustValidate(t, "Cluster", cl.GetName(), cl)
	}
	for _, e := range p.Endpoints {
		mustValidate(t, "ClusterLoadAssignment", e.GetClusterName(), e)
	}
	for _, s := range p.Secrets {
		mustValidate(t, "Secret", s.GetName(), s)
	}
}

// mustValidate checks m and every message packed in it against their
// generated validation, which each must have.
func mustValidate(t *testing.T, kind, name string, m proto.Message) {
	t.Helper()
	// Validation errors name fields, not values.
	if err := (deepvalidate.Walker{RequireRules: true}).Walk(deepvalidate.Root(kind, name), m); err != nil {
		t.Errorf("does not validate: %v", err)
	}
}

func checkPerFilter(t *testing.T, cfg map[string]*anypb.Any) {
	t.Helper()
	for name, a := range cfg {
		if name != apiKeyAuthFilterName {
			t.Errorf("unexpected per-filter config for %q", name)
		}
		m, err := a.UnmarshalNew()
		if err != nil {
			t.Fatalf("unpacking %s: %v", a.GetTypeUrl(), err)
		}
		switch m := m.(type) {
		case *apikeyauthv3.ApiKeyAuthPerRoute:
			seen := map[string]bool{}
			for _, c := range m.GetCredentials() {
				if seen[c.GetKey()] {
					t.Errorf("ApiKeyAuthPerRoute lists a key twice (client %q)", c.GetClient())
				}
				seen[c.GetKey()] = true
			}
			if len(m.GetCredentials()) == 0 || len(m.GetKeySources()) == 0 || m.GetForwarding() == nil {
				t.Errorf("ApiKeyAuthPerRoute without credentials, key sources or forwarding")
			}
		case *routev3.FilterConfig:
			if !m.GetDisabled() {
				t.Errorf("FilterConfig that does not disable")
			}
		default:
			t.Errorf("unexpected per-filter config type %s", a.GetTypeUrl())
		}
	}
}

// TestDeterministic: the inputs in any order give byte-identical output,
// and translating does not modify them.
func TestDeterministic(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			in := loadCase(t, c)
			pristine := loadCase(t, c)
			want := outputBytes(t, Translate(in))
			if !reflect.DeepEqual(in, pristine) {
				t.Fatal("Translate modified its inputs")
			}
			for seed := range uint64(8) {
				shuffled := loadCase(t, c)
				shuffleInputs(&shuffled, rand.New(rand.NewPCG(seed, seed)))
				if got := outputBytes(t, Translate(shuffled)); !bytes.Equal(got, want) {
					t.Fatalf("shuffled inputs (seed %d) give different output", seed)
				}
			}
		})
	}
}

// outputBytes serializes everything an Output holds, resources by their
// deterministic wire encoding (what the xDS server hashes and sends).
func outputBytes(t *testing.T, out Output) []byte {
	t.Helper()
	var buf bytes.Buffer
	wire := proto.MarshalOptions{Deterministic: true}
	add := func(m proto.Message) {
		b, err := wire.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte(0)
	}
	for _, p := range out.Proxies {
		buf.WriteString(p.NodeID)
		for _, m := range p.Listeners {
			add(m)
		}
		for _, m := range p.Routes {
			add(m)
		}
		for _, m := range p.Clusters {
			add(m)
		}
		for _, m := range p.Endpoints {
			add(m)
		}
		for _, m := range p.Secrets {
			add(m)
		}
	}
	st, err := json.Marshal(renderStatuses(out))
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(st)
	return buf.Bytes()
}

func shuffleInputs(in *Inputs, r *rand.Rand) {
	shuffle(r, in.Namespaces)
	shuffle(r, in.GatewayClasses)
	shuffle(r, in.Gateways)
	shuffle(r, in.HTTPRoutes)
	shuffle(r, in.TrafficPolicies)
	shuffle(r, in.Secrets)
	shuffle(r, in.ReferenceGrants)
	shuffle(r, in.Services)
	shuffle(r, in.EndpointSlices)
}

func shuffle[T any](r *rand.Rand, s []T) {
	r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}

// captureLogs routes the default slog logger to a buffer for the test.
func captureLogs(t *testing.T) *logcapture.Buffer {
	t.Helper()
	buf := &logcapture.Buffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	slog.Log(context.Background(), slog.LevelDebug, "capture started") // proves the capture works
	if !strings.Contains(buf.String(), "capture started") {
		t.Fatal("log capture does not work")
	}
	return buf
}
