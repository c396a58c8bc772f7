package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/yaml"
)

// Step is one action or expectation of a scenario. Build steps with the
// functions below.
type Step interface {
	describe(rn *renderer) string
	run(ctx context.Context, x *execution) error
}

// Apply creates or replaces the objects of manifest files (names as in
// Scenario.Manifests), in order.
func Apply(files ...string) Step { return applyStep{files: files} }

type applyStep struct{ files []string }

func (s applyStep) describe(*renderer) string { return "apply " + strings.Join(s.files, ", ") }

func (s applyStep) run(ctx context.Context, x *execution) error {
	var verbs []string
	for _, f := range s.files {
		applied, err := x.apply(ctx, f)
		if err != nil {
			return err
		}
		for _, a := range applied {
			verbs = append(verbs, a.verb+" "+a.gvk.Kind)
		}
	}
	x.mutated(verbs)
	return nil
}

// Delete deletes the objects of manifest files; objects already gone are fine.
func Delete(files ...string) Step { return deleteStep{files: files} }

type deleteStep struct{ files []string }

func (s deleteStep) describe(*renderer) string { return "delete " + strings.Join(s.files, ", ") }

func (s deleteStep) run(ctx context.Context, x *execution) error {
	var verbs []string
	for _, f := range s.files {
		objs, err := decodeManifest(ctx, x.manifests, manifestPath(x.scenario.Dir, f), x.render)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if o, err = x.rendered(o); err != nil {
				return err
			}
			gvk, err := kindOf(o)
			if err != nil {
				return err
			}
			if err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
				return deleteObject(ctx, x.res, o)
			}); err != nil {
				return fmt.Errorf("deleting %s %s/%s: %w", gvk.Kind, o.GetNamespace(), o.GetName(), err)
			}
			verbs = append(verbs, "delete "+gvk.Kind)
		}
	}
	x.mutated(verbs)
	return nil
}

// Ref names one object. Namespace is a template; empty is the scenario's
// namespace.
type Ref struct {
	Kind      schema.GroupVersionKind
	Namespace string
	Name      string
}

// Patch applies a JSON merge patch, written as YAML and rendered as a
// template, to one object: how scenarios relabel a Secret or edit a policy
// in place.
func Patch(ref Ref, mergePatch string) Step { return patchStep{ref: ref, patch: mergePatch} }

type patchStep struct {
	ref   Ref
	patch string
}

func (s patchStep) describe(rn *renderer) string {
	return fmt.Sprintf("patch %s %s with %s", s.ref.Kind.Kind, s.ref.Name, strings.Join(strings.Fields(rn.describe(s.patch)), " "))
}

func (s patchStep) run(ctx context.Context, x *execution) error {
	ns, err := x.namespaceOf(s.ref)
	if err != nil {
		return err
	}
	text, err := x.render.render("patch", s.patch)
	if err != nil {
		return err
	}
	body, err := yaml.YAMLToJSON([]byte(text))
	if err != nil {
		return fmt.Errorf("patch of %s %s is not YAML: %s", s.ref.Kind.Kind, s.ref.Name, x.redactor.Redact(err.Error()))
	}
	if s.ref.Kind == PolicyKind {
		return x.patchPolicy(ctx, ns, s.ref.Name, body)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(s.ref.Kind)
	u.SetNamespace(ns)
	u.SetName(s.ref.Name)
	if err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
		return x.res.Patch(ctx, u, k8s.Patch{PatchType: types.MergePatchType, Data: body})
	}); err != nil {
		return fmt.Errorf("patching %s %s/%s: %w", s.ref.Kind.Kind, ns, s.ref.Name, err)
	}
	x.mutated([]string{"patch " + s.ref.Kind.Kind})
	return nil
}

// Expect sends req until the response matches resp, consistently (see
// TimeoutConfig).
func Expect(req Request, resp Response) Step { return expectStep{req: req, resp: resp} }

type expectStep struct {
	req  Request
	resp Response
	each int // ExpectEach: requests that must all match once consistent
}

func (s expectStep) describe(rn *renderer) string {
	return fmt.Sprintf("expect %s\n    → %s%s", s.req.describe(rn), s.resp.describe(rn), s.describeEach())
}

func (s expectStep) run(ctx context.Context, x *execution) error {
	req, err := s.req.render(x.render)
	if err != nil {
		return err
	}
	want := s.resp
	if want.Backend != nil {
		b, err := want.Backend.render(x.render)
		if err != nil {
			return err
		}
		want.Backend = &b
	}
	addr, err := x.address(ctx, req.Gateway, req.Port)
	if err != nil {
		return err
	}
	// The last response that did not match explains a failure best, even
	// when a short run of matches followed it.
	var bad observed
	var badErr error
	var badDiffs []string
	st := awaitConsistent(ctx, x.timeouts.PollInterval, x.timeouts.MaxTimeToConsistency, x.timeouts.RequiredConsecutiveSuccesses,
		func(ctx context.Context) bool {
			got, err := x.send.send(ctx, addr, req)
			if err != nil {
				badErr, badDiffs = err, nil
				return false
			}
			if diffs := compare(want, req, got); len(diffs) > 0 {
				bad, badErr, badDiffs = got, nil, diffs
				return false
			}
			return true
		})
	if st.Held {
		x.consistent(st.FirstMatch)
		return s.holdsEach(ctx, x, addr, req, want)
	}
	return s.mismatch(x, addr, fmt.Sprintf("response did not match %d times in a row within %v (%d attempts, final run of matches %d)",
		x.timeouts.RequiredConsecutiveSuccesses, x.timeouts.MaxTimeToConsistency, st.Attempts, st.Matches), bad, badErr, badDiffs)
}

// mismatch is the failure of an expectation: what went wrong, the request,
// the expectation and the response that did not match (or why the request
// failed), keys shown as placeholders.
func (s expectStep) mismatch(x *execution, addr, headline string, got observed, err error, diffs []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", headline)
	fmt.Fprintf(&b, "request:  %s (gateway address %s)\n", s.req.describe(x.render), addr)
	fmt.Fprintf(&b, "expected: %s\n", s.resp.describe(x.render))
	if err != nil {
		fmt.Fprintf(&b, "actual:   request failed: %v", err)
	} else {
		fmt.Fprintf(&b, "actual:   %s\n", describeObserved(got))
		fmt.Fprintf(&b, "mismatch: %s", strings.Join(diffs, "\n          "))
	}
	return errors.New(b.String())
}

// ExpectPolicy waits until every status ancestor entry of the policy name
// (as the run's dialect renders it) carries condition c.
func ExpectPolicy(name string, c Condition) Step {
	return conditionStep{ref: Ref{Kind: PolicyKind, Name: name}, cond: c}
}

// ExpectRoute waits until every status parent entry of the HTTPRoute name
// carries condition c.
func ExpectRoute(name string, c Condition) Step {
	return conditionStep{ref: Ref{Kind: HTTPRouteKind, Name: name}, cond: c}
}

// ExpectGateway waits until the Gateway name's own status carries
// condition c.
func ExpectGateway(name string, c Condition) Step {
	return conditionStep{ref: Ref{Kind: GatewayKind, Name: name}, cond: c}
}

// ExpectListener waits until listener of the Gateway name carries
// condition c.
func ExpectListener(name, listener string, c Condition) Step {
	return conditionStep{ref: Ref{Kind: GatewayKind, Name: name}, listener: listener, cond: c}
}

type conditionStep struct {
	ref      Ref
	listener string // a listener of the Gateway ref; empty for the object's own entries
	cond     Condition
}

func (s conditionStep) describe(rn *renderer) string {
	what := s.ref.Name
	if s.listener != "" {
		what += " listener " + s.listener
	}
	return fmt.Sprintf("expect %s %s status %s", s.ref.Kind.Kind, what, s.cond.describe(rn))
}

func (s conditionStep) run(ctx context.Context, x *execution) error {
	ns, err := x.namespaceOf(s.ref)
	if err != nil {
		return err
	}
	messages := make([]string, len(s.cond.MessageContains))
	for i, m := range s.cond.MessageContains {
		if messages[i], err = x.render.render("condition message", m); err != nil {
			return err
		}
	}
	var diffs []string
	var leak string
	st := awaitConsistent(ctx, x.timeouts.PollInterval, x.timeouts.StatusTimeout, 1, func(ctx context.Context) bool {
		var u *unstructured.Unstructured
		err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
			var err error
			u, err = getUnstructured(ctx, x.res, x.kind(s.ref.Kind), ns, s.ref.Name)
			return err
		})
		if err != nil {
			diffs = []string{err.Error()}
			return false
		}
		if l := x.leakIn(*u); l != "" {
			leak = l
			return true
		}
		diffs = checkListenerConditions(u, s.listener, s.cond, messages)
		return len(diffs) == 0
	})
	kind := x.kind(s.ref.Kind).Kind
	if leak != "" {
		return fmt.Errorf("%s %s/%s status contains an API key: %s", kind, ns, s.ref.Name, leak)
	}
	if st.Held {
		return nil
	}
	return fmt.Errorf("%s %s/%s status did not reach %s within %v\nactual: %s",
		kind, ns, s.ref.Name, s.cond.describe(x.render), x.timeouts.StatusTimeout, strings.Join(diffs, "\n        "))
}

// Pause waits d, for what only wall-clock time gives (e.g. a later
// creationTimestamp, which has one-second resolution).
func Pause(d time.Duration, why string) Step { return pauseStep{d: d, why: why} }

type pauseStep struct {
	d   time.Duration
	why string
}

func (s pauseStep) describe(*renderer) string { return fmt.Sprintf("pause %v %s", s.d, s.why) }

func (s pauseStep) run(ctx context.Context, _ *execution) error {
	t := time.NewTimer(s.d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
