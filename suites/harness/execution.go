package harness

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"

	"github.com/keyconform/keyconform/suites/dialect"
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

// execution is the state of one scenario run.
type execution struct {
	scenario  scenario.Scenario
	env       Environment
	manifests fs.FS
	timeouts  TimeoutConfig
	dialect   dialect.Dialect
	supports  func(features.Name) bool
	hooks     Hooks
	tamper    func(k8s.Object)
	res       *resources.Resources
	render    *scenario.Renderer
	redactor  *scenario.Redactor
	send      *sender
	log       io.Writer

	namespaces []string
	applied    []appliedObject
	addresses  map[string]string
	// policies are the intents applied, by namespace/name: what a patch of
	// a policy edits before the dialect renders it again.
	policies map[string]*unstructured.Unstructured

	// lastMutation names the latest change and when it was made; the next
	// request expectation measures time to consistency from it.
	lastMutation string
	mutatedAt    time.Time
	samples      []ConsistencySample
	// now is the step running, for progress reports.
	now progress
}

func (r *Runner) newExecution(s scenario.Scenario) (*execution, error) {
	res, err := r.resources()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	seed := r.Keys
	if seed == nil {
		if seed, err = scenario.NewKeySeed(); err != nil {
			return nil, err
		}
	}
	keys, err := seed.KeySet(s.ShortName, s.Keys, s.LiteralKeys)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.ShortName, err)
	}
	// Namespaces get a random suffix so runs of one scenario, in parallel
	// or after a leftover, never meet; apimachinery's alphabet (lowercase
	// consonants and digits) is valid in a DNS label and spells no word.
	suffix := utilrand.String(5)
	rn := scenario.NewRenderer(s, keys, suffix, r.Env.GatewayClass())
	redactor := rn.Redactor()
	log := r.Log
	if log == nil {
		log = io.Discard
	}
	return &execution{
		scenario: s, env: r.Env, manifests: r.Manifests, timeouts: r.Timeouts, dialect: r.Dialect, supports: r.Supports, hooks: r.Hooks, tamper: r.Tamper,
		res: res, render: rn, redactor: redactor, log: log,
		send:      newSender(r.Env.LoopbackOnly(), r.Timeouts.RequestTimeout),
		addresses: map[string]string{},
		policies:  map[string]*unstructured.Unstructured{},
	}, nil
}

// begin logs what the scenario does next and makes it the progress the
// spec reports while it runs.
func (x *execution) begin(step string) {
	x.logf("%s", step)
	x.now.setStep(step)
}

func (x *execution) logf(format string, args ...any) {
	fmt.Fprintln(x.log, x.redactor.Redact(fmt.Sprintf(format, args...)))
}

func (x *execution) run(ctx context.Context) error {
	x.logf("namespaces: %s", strings.Join(x.render.Namespaces(), ", "))
	if err := x.createNamespaces(ctx); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	var setup []appliedObject
	for _, f := range x.scenario.Manifests {
		x.begin("setup: apply " + f)
		applied, err := x.apply(ctx, f)
		if err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		setup = append(setup, applied...)
	}
	x.begin("setup: waiting for the Deployments to be available and the Gateways programmed")
	if err := x.awaitReady(ctx, setup); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	x.mutated([]string{"setup"})
	for i, st := range x.scenario.Steps {
		desc := st.Describe(x.render)
		x.begin(fmt.Sprintf("step %d/%d: %s", i+1, len(x.scenario.Steps), desc))
		if err := x.runStep(ctx, st); err != nil {
			return fmt.Errorf("step %d/%d failed: %s\n%w", i+1, len(x.scenario.Steps), firstLine(desc), err)
		}
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func (x *execution) createNamespaces(ctx context.Context) error {
	for _, name := range x.render.Namespaces() {
		labels, annotations := x.hooks.namespaceMeta(map[string]string{ScenarioLabel: x.scenario.Dir})
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations}}
		if err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
			return x.res.Create(ctx, ns)
		}); err != nil {
			return fmt.Errorf("creating namespace %s: %w", name, err)
		}
		x.namespaces = append(x.namespaces, name)
	}
	return nil
}

// address returns where the listener on port of Gateway name answers.
func (x *execution) address(ctx context.Context, name string, port uint32) (string, error) {
	key := fmt.Sprintf("%s:%d", name, port)
	if addr, ok := x.addresses[key]; ok {
		return addr, nil
	}
	ctx, cancel := context.WithTimeout(ctx, x.timeouts.GatewayReadyTimeout)
	defer cancel()
	nn := types.NamespacedName{Namespace: x.render.Namespace(), Name: name}
	addr, err := x.env.GatewayAddress(ctx, nn, port)
	if err != nil {
		return "", fmt.Errorf("address of Gateway %s port %d: %w", nn, port, err)
	}
	if err := x.checkAddressIsOwn(ctx, nn, port, addr); err != nil {
		return "", err
	}
	x.addresses[key] = addr
	return addr, nil
}

// namespaceOf is the namespace ref names in this run.
func (x *execution) namespaceOf(ref scenario.Ref) (string, error) {
	if ref.Namespace == "" {
		return x.render.Namespace(), nil
	}
	return x.render.Render("namespace", ref.Namespace)
}

// mutated records a change; the next request expectation measures from now.
func (x *execution) mutated(verbs []string) {
	x.lastMutation = strings.Join(verbs, ", ")
	x.mutatedAt = time.Now()
}

// consistent records, once per change, how long it took to be seen.
func (x *execution) consistent(firstMatch time.Time) {
	if x.lastMutation == "" {
		return
	}
	latency := max(firstMatch.Sub(x.mutatedAt), 0)
	x.samples = append(x.samples, ConsistencySample{Mutation: x.lastMutation, Latency: latency})
	x.lastMutation = ""
}
