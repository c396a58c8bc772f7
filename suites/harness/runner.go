package harness

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"

	"github.com/keyconform/keyconform/suites/dialect"
	"github.com/keyconform/keyconform/suites/features"
)

// ScenarioLabel marks every namespace the suite creates with the scenario
// it belongs to, so leftovers are easy to find and delete.
const ScenarioLabel = "keyconform.dev/scenario"

// Runner runs scenarios in an Environment. It is safe for concurrent use.
type Runner struct {
	Env       Environment
	Manifests fs.FS
	Timeouts  TimeoutConfig
	// Cleanup deletes what a scenario created when it ends.
	Cleanup bool
	// Log receives each step as it runs, redacted.
	Log io.Writer
	// Progress receives a line when a scenario starts and when it ends.
	Progress io.Writer
	// Dialect renders the scenarios' policies for the implementation.
	Dialect dialect.Dialect
	// Supports says whether the run claims a feature, for Only steps; nil
	// claims every feature.
	Supports func(features.Name) bool
	// Tamper, when set, alters every object before it is applied (after
	// the dialect renders it): a fault injector proving the suite reports
	// a broken implementation.
	Tamper func(k8s.Object)

	once   sync.Once
	res    *resources.Resources
	resErr error
}

// Result is how one scenario run ended. Failure is redacted.
type Result struct {
	ShortName   string
	Passed      bool
	Failure     string
	Duration    time.Duration
	Consistency []ConsistencySample
	// Redactor knows the run's keys, so callers can check output the
	// runner did not produce (e.g. logs captured during the run).
	Redactor *Redactor
}

// ConsistencySample is how long the implementation took, after a change,
// until requests consistently saw it: from the end of the mutating step to
// the first response of the run of matching responses.
type ConsistencySample struct {
	Mutation string        `json:"mutation"`
	Latency  time.Duration `json:"latencyNanos"`
}

// Run runs s and cleans up after it.
func (r *Runner) Run(ctx context.Context, s Scenario) Result {
	start := time.Now()
	progress := r.Progress
	if progress == nil {
		progress = io.Discard
	}
	fmt.Fprintf(progress, "[scenario] %s started\n", s.ShortName)
	x, err := r.newExecution(s)
	res := Result{ShortName: s.ShortName}
	if err == nil {
		err = x.run(ctx)
		err = errors.Join(err, x.sweepLeaks(context.WithoutCancel(ctx), err != nil))
		res.Redactor = x.redactor
		if r.Cleanup {
			err = errors.Join(err, x.cleanup(ctx))
		}
		res.Consistency = x.samples
	}
	res.Duration = time.Since(start)
	res.Passed = err == nil
	verdict := "passed"
	if err != nil {
		verdict = "FAILED"
		res.Failure = err.Error()
		if x != nil {
			res.Failure = x.redactor.Redact(res.Failure)
		}
	}
	fmt.Fprintf(progress, "[scenario] %s %s in %.2fs\n", s.ShortName, verdict, res.Duration.Seconds())
	return res
}

func (r *Runner) resources() (*resources.Resources, error) {
	r.once.Do(func() {
		r.res, r.resErr = resources.New(r.Env.RESTConfig())
	})
	return r.res, r.resErr
}

// execution is the state of one scenario run.
type execution struct {
	scenario  Scenario
	env       Environment
	manifests fs.FS
	timeouts  TimeoutConfig
	dialect   dialect.Dialect
	supports  func(features.Name) bool
	tamper    func(k8s.Object)
	res       *resources.Resources
	render    *renderer
	redactor  *Redactor
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
}

func (r *Runner) newExecution(s Scenario) (*execution, error) {
	res, err := r.resources()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	keys, err := NewKeySet(s.Keys, s.LiteralKeys)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.ShortName, err)
	}
	suffix, err := randomSuffix()
	if err != nil {
		return nil, err
	}
	redactor := NewRedactor(keys)
	rn := &renderer{keys: keys, redactor: redactor, namespace: namespaceName(s.Dir, "", suffix),
		extra: map[string]string{}, gatewayClass: r.Env.GatewayClass()}
	for _, alias := range s.Namespaces {
		rn.extra[alias] = namespaceName(s.Dir, alias, suffix)
	}
	log := r.Log
	if log == nil {
		log = io.Discard
	}
	return &execution{
		scenario: s, env: r.Env, manifests: r.Manifests, timeouts: r.Timeouts, dialect: r.Dialect, supports: r.Supports, tamper: r.Tamper,
		res: res, render: rn, redactor: redactor, log: log,
		send:      newSender(r.Env.LoopbackOnly(), r.Timeouts.RequestTimeout),
		addresses: map[string]string{},
		policies:  map[string]*unstructured.Unstructured{},
	}, nil
}

// namespaceName is "<dir>[-<alias>]-<suffix>", within the 63 characters a
// namespace name may have.
func namespaceName(dir, alias, suffix string) string {
	tail := "-" + suffix
	if alias != "" {
		tail = "-" + alias + tail
	}
	if len(dir)+len(tail) > 63 {
		dir = strings.TrimRight(dir[:63-len(tail)], "-")
	}
	return dir + tail
}

func randomSuffix() (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	buf := make([]byte, 5)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("naming namespaces: %w", err)
	}
	for i, b := range buf {
		buf[i] = alphabet[int(b)%len(alphabet)]
	}
	return string(buf), nil
}

func (x *execution) logf(format string, args ...any) {
	fmt.Fprintln(x.log, x.redactor.Redact(fmt.Sprintf(format, args...)))
}

func (x *execution) run(ctx context.Context) error {
	x.logf("namespaces: %s", strings.Join(x.allNamespaces(), ", "))
	if err := x.createNamespaces(ctx); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	var setup []appliedObject
	for _, f := range x.scenario.Manifests {
		x.logf("apply %s", f)
		applied, err := x.apply(ctx, f)
		if err != nil {
			return fmt.Errorf("setup: %w", err)
		}
		setup = append(setup, applied...)
	}
	if err := x.awaitReady(ctx, setup); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	x.mutated([]string{"setup"})
	for i, st := range x.scenario.Steps {
		desc := st.describe(x.render)
		x.logf("step %d/%d: %s", i+1, len(x.scenario.Steps), desc)
		if err := st.run(ctx, x); err != nil {
			return fmt.Errorf("step %d/%d failed: %s\n%w", i+1, len(x.scenario.Steps), firstLine(desc), err)
		}
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func (x *execution) allNamespaces() []string {
	out := []string{x.render.namespace}
	for _, alias := range x.scenario.Namespaces {
		out = append(out, x.render.extra[alias])
	}
	return out
}

func (x *execution) createNamespaces(ctx context.Context) error {
	for _, name := range x.allNamespaces() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{ScenarioLabel: x.scenario.Dir}}}
		if err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
			return x.res.Create(ctx, ns)
		}); err != nil {
			return fmt.Errorf("creating namespace %s: %w", name, err)
		}
		x.namespaces = append(x.namespaces, name)
	}
	return nil
}

// apply creates or replaces the objects of one manifest file.
func (x *execution) apply(ctx context.Context, file string) ([]appliedObject, error) {
	objs, err := decodeManifest(ctx, x.manifests, manifestPath(x.scenario.Dir, file), x.render)
	if err != nil {
		return nil, err
	}
	var out []appliedObject
	for _, o := range objs {
		if u, ok := o.(*unstructured.Unstructured); ok && u.GroupVersionKind() == PolicyKind {
			x.policies[u.GetNamespace()+"/"+u.GetName()] = u.DeepCopy()
		}
		a, err := x.applyObject(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("applying %s: %w", file, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// applyObject renders one manifest object through the dialect and creates
// or replaces it.
func (x *execution) applyObject(ctx context.Context, o k8s.Object) (appliedObject, error) {
	o, err := x.rendered(o)
	if err != nil {
		return appliedObject{}, err
	}
	if x.tamper != nil {
		x.tamper(o)
	}
	gvk, err := kindOf(o)
	if err != nil {
		return appliedObject{}, err
	}
	a := appliedObject{obj: o, gvk: gvk}
	err = withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
		var err error
		a.verb, err = CreateOrReplace(ctx, x.res, o)
		return err
	})
	if err != nil {
		return appliedObject{}, fmt.Errorf("%s %s/%s: %w", gvk.Kind, o.GetNamespace(), o.GetName(), err)
	}
	x.applied = append(x.applied, a)
	return a, nil
}

// awaitReady waits until the Deployments of the setup are available and
// its Gateways programmed, as a user would before sending traffic.
func (x *execution) awaitReady(ctx context.Context, objs []appliedObject) error {
	for _, a := range objs {
		var check func(*unstructured.Unstructured) string
		switch a.gvk.Kind {
		case deploymentKind.Kind:
			check = deploymentAvailable
		case GatewayKind.Kind:
			check = gatewayProgrammed
		default:
			continue
		}
		if err := awaitObject(ctx, x.res, a.gvk, a.obj.GetNamespace(), a.obj.GetName(),
			x.timeouts.PollInterval, x.timeouts.GatewayReadyTimeout, x.timeouts.APITimeout, check); err != nil {
			return err
		}
	}
	return nil
}

func deploymentAvailable(u *unstructured.Unstructured) string {
	var d appsv1.Deployment
	if err := fromUnstructured(u, &d); err != nil {
		return err.Error()
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			if c.Status == corev1.ConditionTrue {
				return ""
			}
			return fmt.Sprintf("Available=%s: %s", c.Status, c.Message)
		}
	}
	return "no Available condition yet"
}

func gatewayProgrammed(u *unstructured.Unstructured) string {
	diffs := checkConditions(u, Condition{Type: "Programmed", Status: metav1.ConditionTrue}, nil)
	return strings.Join(diffs, "; ")
}

// address returns where the listener on port of Gateway name answers.
func (x *execution) address(ctx context.Context, name string, port uint32) (string, error) {
	key := fmt.Sprintf("%s:%d", name, port)
	if addr, ok := x.addresses[key]; ok {
		return addr, nil
	}
	ctx, cancel := context.WithTimeout(ctx, x.timeouts.GatewayReadyTimeout)
	defer cancel()
	nn := types.NamespacedName{Namespace: x.render.namespace, Name: name}
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

func (x *execution) namespaceOf(ref Ref) (string, error) {
	if ref.Namespace == "" {
		return x.render.namespace, nil
	}
	return x.render.render("namespace", ref.Namespace)
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

// cleanup deletes what the scenario applied, newest first, then its
// namespaces. It runs even when ctx is done.
func (x *execution) cleanup(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for i := len(x.applied) - 1; i >= 0; i-- {
		a := x.applied[i]
		if err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
			return deleteObject(ctx, x.res, a.obj)
		}); err != nil {
			errs = append(errs, fmt.Errorf("cleanup: deleting %s: %w", a, err))
		}
	}
	for _, name := range x.namespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
			return deleteObject(ctx, x.res, ns)
		}); err != nil {
			errs = append(errs, fmt.Errorf("cleanup: deleting namespace %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
