package harness

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mccutchen/go-httpbin/v2/httpbin"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/keyconform/keyconform/suites/scenario"
)

// loopbackEnv is an Environment whose every Gateway listener is one real
// HTTP server on loopback.
type loopbackEnv struct{ addr string }

func (e loopbackEnv) RESTConfig() *rest.Config { return nil }
func (e loopbackEnv) GatewayClass() string     { return "test" }
func (e loopbackEnv) LoopbackOnly() bool       { return true }
func (e loopbackEnv) GatewayAddress(context.Context, types.NamespacedName, uint32) (string, error) {
	return e.addr, nil
}

// fastTimeouts keeps failing expectations short.
func fastTimeouts() TimeoutConfig {
	c := DefaultTimeoutConfig()
	c.PollInterval = 5 * time.Millisecond
	c.MaxTimeToConsistency = 400 * time.Millisecond
	c.RequestTimeout = 2 * time.Second
	return c
}

func newTestExecution(t *testing.T, handler http.Handler, tc TimeoutConfig) (*execution, scenario.KeySet) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	ks, err := scenario.NewKeySet([]string{"client1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := scenario.Scenario{ShortName: "Test", Dir: "test"}
	rn := scenario.NewRenderer(s, ks, "ns", "test")
	return &execution{
		scenario:  s,
		env:       loopbackEnv{addr: strings.TrimPrefix(srv.URL, "http://")},
		timeouts:  tc,
		render:    rn,
		redactor:  rn.Redactor(),
		send:      newSender(true, tc.RequestTimeout),
		log:       io.Discard,
		addresses: map[string]string{},
	}, ks
}

// localReply answers like the api_key_auth filter's 401.
func localReply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func TestExpectWaitsForConsistencyAfterAChange(t *testing.T) {
	// The "data plane" refuses the first 10 requests, then lets them reach
	// go-httpbin: like a policy removal propagating.
	var n atomic.Int32
	bin := httpbin.New()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 10 {
			localReply(w, 401, scenario.UnauthorizedBody)
			return
		}
		bin.ServeHTTP(w, r)
	})
	tc := fastTimeouts()
	tc.MaxTimeToConsistency = 5 * time.Second
	x, _ := newTestExecution(t, handler, tc)
	x.mutated([]string{"delete TrafficPolicy"})

	step := scenario.Expect(scenario.Get("/anything"), scenario.Reached(scenario.Backend{}.Without("api-key")))
	if err := x.runStep(context.Background(), step); err != nil {
		t.Fatalf("expectation failed: %v", err)
	}
	if got := n.Load(); got != 10+int32(tc.RequiredConsecutiveSuccesses) {
		t.Errorf("sent %d requests, want 10 refused + %d consecutive successes", got, tc.RequiredConsecutiveSuccesses)
	}
	if len(x.samples) != 1 || x.samples[0].Mutation != "delete TrafficPolicy" || x.samples[0].Latency <= 0 {
		t.Errorf("consistency samples = %+v, want one for the deletion with a positive latency", x.samples)
	}
}

func TestExpectFailsWhenResponsesFlap(t *testing.T) {
	var n atomic.Int32
	bin := httpbin.New()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 { // never three matches in a row
			localReply(w, 401, scenario.UnauthorizedBody)
			return
		}
		bin.ServeHTTP(w, r)
	})
	x, _ := newTestExecution(t, handler, fastTimeouts())
	err := x.runStep(context.Background(), scenario.Expect(scenario.Get("/anything"), scenario.Reached(scenario.Backend{})))
	if err == nil {
		t.Fatal("a flapping data plane passed an expectation needing 3 matches in a row")
	}
	for _, want := range []string{"did not match 3 times in a row", "request:", "expected:", "actual:", "mismatch: status 401, want 200"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("failure message lacks %q:\n%s", want, err)
		}
	}
}

func TestExpectOneConsecutiveSuccessAcceptsTheFirstMatch(t *testing.T) {
	var n atomic.Int32
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			localReply(w, 401, scenario.UnauthorizedBody)
			return
		}
		localReply(w, 500, "later")
	})
	tc := fastTimeouts()
	tc.RequiredConsecutiveSuccesses = 1
	x, _ := newTestExecution(t, handler, tc)
	if err := x.runStep(context.Background(), scenario.Expect(scenario.Get("/anything"), scenario.Unauthorized)); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 1 {
		t.Errorf("sent %d requests, want 1", n.Load())
	}
}

// TestFailureMessagesNeverShowKeys makes the suite fail on a backend that
// echoes the key back (what a forwardCredential bug would look like) and
// checks the message shows request, expected and actual with the key
// replaced by its placeholder everywhere.
func TestFailureMessagesNeverShowKeys(t *testing.T) {
	x, ks := newTestExecution(t, httpbin.New(), fastTimeouts())
	v, _ := ks.Value("client1")
	step := scenario.Expect(scenario.Get("/anything?api_key="+`{{key "client1"}}`).WithHeader("api-key", `Bearer {{key "client1"}}`), scenario.Unauthorized)
	err := x.runStep(context.Background(), step)
	if err == nil {
		t.Fatal("go-httpbin's 200 passed as the filter's 401")
	}
	msg := x.redactor.Redact(err.Error())
	if strings.Contains(strings.ToLower(msg), strings.ToLower(v)) {
		t.Fatalf("the key leaked into the failure message:\n%s", msg)
	}
	for _, want := range []string{
		"request:  GET /anything?api_key=<key:client1>",
		"api-key: Bearer <key:client1>",
		`expected: 401 local reply "Client authentication failed."`,
		"actual:   200 from the backend",
		"<key:client1>", // the echoed header, redacted
		"the backend was reached",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
	// The raw error does hold the key, echoed by the backend: redaction is
	// what keeps it out, which is why the Runner redacts every failure.
	if !strings.Contains(err.Error(), v) {
		t.Error("the raw failure holds no key, so this test proves nothing about redaction")
	}
}

func TestSenderRefusesNonLoopbackOnLoopbackOnlyTargets(t *testing.T) {
	s := newSender(true, time.Second)
	_, err := s.send(context.Background(), "192.0.2.1:80", scenario.Get("/anything").WithDefaults())
	if err == nil || !strings.Contains(err.Error(), "only sends traffic to loopback") {
		t.Fatalf("err = %v, want a refusal naming the loopback rule", err)
	}
}
