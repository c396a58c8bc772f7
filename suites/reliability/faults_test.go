package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
	"github.com/keyconform/keyconform/sim/localenv"
	"github.com/keyconform/keyconform/suites/leakscan"
	"github.com/keyconform/keyconform/suites/scenario"
)

// rate is the request stream's target, over every kind of key.
const rate = 1000

// rotations is how many rotations the revocation latency is measured on.
const rotations = 20

// secret is where the policy reads its keys: one client whose key rotates.
var secret = types.NamespacedName{Namespace: "kgateway-system", Name: "reliability-keys"}

// figures is what the test reports ($ARTIFACTS/reliability.json).
type figures struct {
	Requests        int                    `json:"requests"`
	Seconds         float64                `json:"seconds"`
	WronglyAllowed  int                    `json:"wronglyAllowed"`
	Faults          []faultFigures         `json:"faults"`
	Revocation      latencyFigures         `json:"revocationUnderLoad"`
	ResponsesByKind map[string]map[int]int `json:"responsesByKind"`
}

type faultFigures struct {
	Fault           string  `json:"fault"`
	ValidRequests   int     `json:"validRequests"`
	FailedRequests  int     `json:"failedRequests"`
	RecoveredMillis float64 `json:"recoveredMillis"`
	// RotationAfterMillis is the revocation latency of a rotation made
	// once traffic recovered: the control path works again.
	RotationAfterMillis float64 `json:"rotationAfterMillis"`
}

type latencyFigures struct {
	Count     int     `json:"count"`
	P50Millis float64 `json:"p50Millis"`
	P99Millis float64 `json:"p99Millis"`
	MaxMillis float64 `json:"maxMillis"`
}

// TestFaultsUnderLoad drives about 1000 requests per second (valid,
// revoked, wrong and missing keys) through the reference implementation's
// sample Gateway while faults happen one at a time, and fails on any
// request wrongly allowed. The figures are logged and written to
// $ARTIFACTS/reliability.json; everything the test left is then scanned
// for its keys.
func TestFaultsUnderLoad(t *testing.T) {
	artifacts := filepath.Join(artifactsDir(t), "reliability")
	if err := os.RemoveAll(artifacts); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(artifacts, "environment.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	ctx := t.Context()
	env, err := localenv.Start(ctx, localenv.Options{SampleApp: true, Logger: slog.New(slog.NewTextHandler(logFile, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the environment: %v", err)
		}
	}()
	seed, err := scenario.NewKeySeed()
	if err != nil {
		t.Fatal(err)
	}
	k := &keys{seed: seed}
	c := env.Client()
	if err := c.Create(ctx, k.secret(1)); err != nil {
		t.Fatal(err)
	}
	gateway, port := env.SampleGateway()
	if err := c.Create(ctx, policy(gateway)); err != nil {
		t.Fatal(err)
	}
	addr, err := env.GatewayAddress(ctx, gateway, port)
	if err != nil {
		t.Fatal(err)
	}

	tl := &Timeline{}
	load := newLoad(addr, k, tl)
	d := &driver{t: t, env: env, c: c, keys: k, tl: tl, load: load}
	d.awaitValid(ctx, 1)
	start := time.Now()
	stopLoad := load.run(ctx)

	time.Sleep(2 * time.Second) // a baseline
	var faults []faultFigures
	for _, f := range []struct {
		name   string
		inject func(context.Context) error
	}{
		{"controller restart", env.RestartController},
		{"kube-apiserver restart (etcd kept)", func(context.Context) error { return env.RestartAPIServer() }},
		{"xDS stream cut", func(context.Context) error {
			if n := env.CutXDS(); n == 0 {
				return errors.New("no xDS connection to cut")
			}
			return nil
		}},
		{"data plane pod deletion", d.deleteDataPlanePod},
	} {
		faults = append(faults, d.fault(ctx, f.name, f.inject))
	}
	faults = append(faults, d.nackedUpdate(ctx))
	var latencies []time.Duration
	for range rotations {
		latencies = append(latencies, d.rotate(ctx))
	}
	faults = append(faults, d.deleteSecret(ctx))
	stopLoad()
	took := time.Since(start)

	rs, revs := tl.Snapshot()
	wrong := WronglyAllowed(rs, revs)
	fig := figures{
		Requests: len(rs), Seconds: took.Seconds(), WronglyAllowed: len(wrong), Faults: faults,
		Revocation: latencyFigures{Count: len(latencies), P50Millis: ms(Percentile(latencies, 50)),
			P99Millis: ms(Percentile(latencies, 99)), MaxMillis: ms(Percentile(latencies, 100))},
		ResponsesByKind: byKind(rs),
	}
	report, err := json.MarshalIndent(fig, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifacts, "reliability.json"), report, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d requests in %.1fs (%.0f/s), %d wrongly allowed\n%s", len(rs), took.Seconds(), float64(len(rs))/took.Seconds(), len(wrong), table(fig))
	for i, r := range wrong {
		if i == 10 {
			t.Errorf("... and %d more", len(wrong)-10)
			break
		}
		t.Errorf("wrongly allowed: a %s key (generation %d) sent at +%v got %d", r.Kind, r.Gen, r.Sent.Sub(start).Round(time.Millisecond), r.Status)
	}
	if got := float64(len(rs)) / took.Seconds(); got < rate/2 {
		t.Errorf("the stream ran at %.0f requests/s, under half of %d: the figures do not hold under load", got, rate)
	}

	// Everything the test left must be free of its keys.
	if err := logFile.Sync(); err != nil {
		t.Fatal(err)
	}
	res, err := leakscan.Scan(k.redactor(), artifacts)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range res.Leaks {
		t.Errorf("an API key leaked: %s", l)
	}
	t.Logf("leak scan: %d files, %d bytes, %d leaks", res.Files, res.Bytes, len(res.Leaks))
}

func artifactsDir(t *testing.T) string {
	if dir := os.Getenv("ARTIFACTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// keys are the run's key generations, derived from its seed once each:
// the load asks for them on every request.
type keys struct {
	seed   scenario.KeySeed
	mu     sync.Mutex
	max    int
	values map[int]string
}

func (k *keys) value(gen int) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if v, ok := k.values[gen]; ok {
		return v
	}
	ks, err := k.seed.KeySet("reliability", []string{fmt.Sprint(gen)}, nil)
	if err != nil {
		panic(err) // only a nil seed fails, and the seed is set
	}
	v, _ := ks.Value(fmt.Sprint(gen))
	if k.values == nil {
		k.values = map[int]string{}
	}
	k.values[gen], k.max = v, max(k.max, gen)
	return v
}

// wrong is a key no generation ever had.
func (k *keys) wrong() string { return k.value(0) }

func (k *keys) secret(gen int) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: secret.Namespace, Name: secret.Name},
		StringData: map[string]string{"client1": k.value(gen)}}
}

// redactor knows every generation handed out (and the wrong key).
func (k *keys) redactor() *scenario.Redactor {
	k.mu.Lock()
	n := k.max
	k.mu.Unlock()
	var names []string
	for gen := 0; gen <= n; gen++ {
		names = append(names, fmt.Sprint(gen))
	}
	ks, err := scenario.RunKeys(k.seed, []scenario.Scenario{{ShortName: "reliability", Keys: names}})
	if err != nil {
		panic(err)
	}
	return scenario.NewRedactor(ks)
}

func policy(gw types.NamespacedName) *v1alpha1.TrafficPolicy {
	return &v1alpha1.TrafficPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: gw.Namespace, Name: "reliability"},
		Spec: v1alpha1.TrafficPolicySpec{
			TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{
				Group: gwv1.GroupName, Kind: "Gateway", Name: gwv1.ObjectName(gw.Name)}}},
			APIKeyAuth: &v1alpha1.APIKeyAuth{SecretRef: &gwv1.SecretObjectReference{Name: gwv1.ObjectName(secret.Name)}},
		},
	}
}

// load sends requests at rate, cycling through the kinds of key.
type load struct {
	addr   string
	keys   *keys
	tl     *Timeline
	client *http.Client
	// current is the generation in the Secret; old the one the latest
	// change revoked (0 for none yet).
	current, old atomic.Int64
	started      atomic.Bool
}

func newLoad(addr string, k *keys, tl *Timeline) *load {
	l := &load{addr: addr, keys: k, tl: tl, client: &http.Client{Timeout: 2 * time.Second,
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}}}
	l.current.Store(1)
	return l
}

// run starts the stream; the returned func stops it and waits.
func (l *load) run(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	l.started.Store(true)
	var wg sync.WaitGroup
	const workers = 64
	ticks := make(chan Kind, workers)
	wg.Go(func() {
		defer close(ticks)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		// A tick the scheduler delays is made up at the next one: the
		// stream keeps its average rate while the CPU is busy.
		start, sent := time.Now(), 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for due := int(time.Since(start) * rate / time.Second); sent < due; sent++ {
				kind := Kind(sent % 4)
				if kind == Old && l.old.Load() == 0 {
					kind = Valid
				}
				select {
				case ticks <- kind:
				default: // every worker busy: the request is not sent, the rate shows it
				}
			}
		}
	})
	for range workers {
		wg.Go(func() {
			for kind := range ticks {
				l.send(ctx, kind)
			}
		})
	}
	return func() { cancel(); wg.Wait() }
}

func (l *load) send(ctx context.Context, kind Kind) {
	r := Response{Kind: kind}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+l.addr+"/status/200", nil)
	if err != nil {
		return
	}
	req.Host = "www.example.com"
	switch kind {
	case Valid:
		r.Gen = int(l.current.Load())
		req.Header.Set("api-key", l.keys.value(r.Gen))
	case Old:
		r.Gen = int(l.old.Load())
		req.Header.Set("api-key", l.keys.value(r.Gen))
	case Wrong:
		req.Header.Set("api-key", l.keys.wrong())
	}
	r.Sent = time.Now()
	resp, err := l.client.Do(req)
	r.Done = time.Now()
	if ctx.Err() != nil {
		return // stopped mid-request: no verdict
	}
	if err == nil {
		r.Status = resp.StatusCode
		_ = resp.Body.Close()
	}
	l.tl.Record(r)
}

// driver injects faults and changes keys while the load runs.
type driver struct {
	t    *testing.T
	env  *localenv.Env
	c    client.Client
	keys *keys
	tl   *Timeline
	load *load
}

// fault injects one fault, waits for valid traffic to flow again, then
// rotates the key to show the control path works again.
func (d *driver) fault(ctx context.Context, name string, inject func(context.Context) error) faultFigures {
	d.t.Helper()
	start := time.Now()
	if err := inject(ctx); err != nil {
		d.t.Fatalf("%s: %v", name, err)
	}
	d.awaitValid(ctx, int(d.load.current.Load()))
	time.Sleep(500 * time.Millisecond)
	// The window ends before the rotation, whose new key fails until it
	// propagates: those are the rotation's, not the fault's.
	rs, _ := d.tl.Snapshot()
	w := ValidTraffic(rs, start, time.Now())
	rotation := d.rotate(ctx)
	return faultFigures{Fault: name, ValidRequests: w.Requests, FailedRequests: w.Failed,
		RecoveredMillis: ms(w.Recovered), RotationAfterMillis: ms(rotation)}
}

// rotate replaces the key with the next generation and returns the old
// key's revocation latency under the load.
func (d *driver) rotate(ctx context.Context) time.Duration {
	d.t.Helper()
	rev := d.replaceKey(ctx)
	d.awaitValid(ctx, rev.Gen+1)
	deadline := time.Now().Add(30 * time.Second)
	for {
		time.Sleep(50 * time.Millisecond)
		rs, _ := d.tl.Snapshot()
		if latency, ok := RevocationLatency(rs, rev); ok && time.Since(rev.At) > latency+200*time.Millisecond {
			return latency
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("the key of generation %d still works 30s after its rotation", rev.Gen)
		}
	}
}

// replaceKey writes the next generation's key into the Secret and points
// the load at it; the returned revocation is the previous generation's.
func (d *driver) replaceKey(ctx context.Context) Revocation {
	d.t.Helper()
	gen := int(d.load.current.Load())
	var s corev1.Secret
	if err := d.c.Get(ctx, secret, &s); err != nil {
		d.t.Fatalf("reading the Secret: %v", err)
	}
	s.Data, s.StringData = nil, map[string]string{"client1": d.keys.value(gen + 1)}
	if err := d.c.Update(ctx, &s); err != nil {
		d.t.Fatalf("rotating the key: %v", err)
	}
	rev := Revocation{Gen: gen, At: time.Now()}
	d.tl.Revoke(rev)
	d.load.old.Store(int64(gen))
	d.load.current.Store(int64(gen + 1))
	return rev
}

// nackedUpdate has the data plane refuse a rotation's routes, as Envoy
// refuses a config it cannot load: it must keep serving the last good
// configuration (the old key works, the new one does not), and take the
// next version once the key changes again.
func (d *driver) nackedUpdate(ctx context.Context) faultFigures {
	d.t.Helper()
	start := time.Now()
	refused := d.env.RejectNextRoutes()
	rev := d.replaceKey(ctx)
	d.await(ctx, "a data plane to refuse the rotation's routes", func([]Response) bool { return refused() > 0 })
	refusedAt := time.Now()
	time.Sleep(time.Second)
	rs, _ := d.tl.Snapshot()
	oldWorks, newWorks := 0, 0
	for _, r := range rs {
		if r.Sent.After(refusedAt) && r.Status == http.StatusOK {
			switch r.Gen {
			case rev.Gen:
				oldWorks++
			case rev.Gen + 1:
				newWorks++
			}
		}
	}
	if oldWorks == 0 || newWorks > 0 {
		d.t.Errorf("after refusing an update the data plane must keep its last good configuration: "+
			"the old key got through %d times, the refused new one %d times", oldWorks, newWorks)
	}
	w := ValidTraffic(rs, start, time.Now())
	rotation := d.rotate(ctx)
	return faultFigures{Fault: fmt.Sprintf("NACKed update (a rotation refused, %d NACKs)", refused()), ValidRequests: w.Requests,
		FailedRequests: w.Failed, RecoveredMillis: ms(w.Recovered), RotationAfterMillis: ms(rotation)}
}

// deleteSecret deletes the Secret (the policy must fail closed: 500 for
// every request), then creates it again with a new key.
func (d *driver) deleteSecret(ctx context.Context) faultFigures {
	d.t.Helper()
	gen := int(d.load.current.Load())
	start := time.Now()
	if err := d.c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: secret.Namespace, Name: secret.Name}}); err != nil {
		d.t.Fatalf("deleting the Secret: %v", err)
	}
	d.tl.Revoke(Revocation{Gen: gen, At: time.Now(), Deleted: true})
	d.await(ctx, "every request to fail closed (500) once the Secret is gone", func(rs []Response) bool {
		return lastValid(rs, 20, func(r Response) bool { return r.Status == http.StatusInternalServerError })
	})
	d.load.old.Store(int64(gen))
	d.load.current.Store(int64(gen + 1))
	if err := d.c.Create(ctx, d.keys.secret(gen+1)); err != nil {
		d.t.Fatalf("creating the Secret again: %v", err)
	}
	d.awaitValid(ctx, gen+1)
	time.Sleep(500 * time.Millisecond)
	rs, _ := d.tl.Snapshot()
	w := ValidTraffic(rs, start, time.Now())
	return faultFigures{Fault: "Secret deletion (fails closed), then re-creation", ValidRequests: w.Requests, FailedRequests: w.Failed,
		RecoveredMillis: ms(w.Recovered)}
}

func (d *driver) deleteDataPlanePod(ctx context.Context) error {
	var pods corev1.PodList
	if err := d.c.List(ctx, &pods, client.InNamespace("kgateway-system")); err != nil {
		return err
	}
	for _, p := range pods.Items {
		if strings.HasPrefix(p.Name, "http-") || p.Labels["gateway.networking.k8s.io/gateway-name"] == "http" {
			return d.c.Delete(ctx, &p)
		}
	}
	return errors.New("no data plane pod of Gateway http")
}

// awaitValid waits until generation gen's key gets through (before the
// load runs, it sends its own requests).
func (d *driver) awaitValid(ctx context.Context, gen int) {
	d.t.Helper()
	d.await(ctx, fmt.Sprintf("the key of generation %d to get through", gen), func(rs []Response) bool {
		if !d.load.started.Load() {
			d.load.send(ctx, Valid)
			rs, _ = d.tl.Snapshot()
		}
		return lastValid(rs, 20, func(r Response) bool { return r.Status == http.StatusOK && r.Gen == gen })
	})
}

func (d *driver) await(ctx context.Context, what string, ok func([]Response) bool) {
	d.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rs, _ := d.tl.Snapshot()
		if ok(rs) {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			d.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lastValid says the last n valid-key responses all satisfy ok.
func lastValid(rs []Response, n int, ok func(Response) bool) bool {
	seen := 0
	for i := len(rs) - 1; i >= 0 && seen < n; i-- {
		if rs[i].Kind != Valid {
			continue
		}
		if !ok(rs[i]) {
			return false
		}
		seen++
	}
	return seen == n
}

func byKind(rs []Response) map[string]map[int]int {
	out := map[string]map[int]int{}
	for _, r := range rs {
		if out[r.Kind.String()] == nil {
			out[r.Kind.String()] = map[int]int{}
		}
		out[r.Kind.String()][r.Status]++
	}
	return out
}

func table(f figures) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-50s %8s %8s %12s %14s\n", "fault", "valid", "failed", "recovered", "next rotation")
	for _, x := range f.Faults {
		rotation := "-"
		if x.RotationAfterMillis > 0 {
			rotation = fmt.Sprintf("%.0fms", x.RotationAfterMillis)
		}
		fmt.Fprintf(&b, "%-50s %8d %8d %10.0fms %14s\n", x.Fault, x.ValidRequests, x.FailedRequests, x.RecoveredMillis, rotation)
	}
	fmt.Fprintf(&b, "revocation latency under load over %d rotations: p50 %.0fms, p99 %.0fms, max %.0fms\n",
		f.Revocation.Count, f.Revocation.P50Millis, f.Revocation.P99Millis, f.Revocation.MaxMillis)
	fmt.Fprintf(&b, "responses by key kind and status: %v", f.ResponsesByKind)
	return b.String()
}
