package scenario

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Apply creates or replaces the objects of manifest files (names as in
// Scenario.Manifests), in order.
func Apply(files ...string) Step { return ApplyStep{Files: files} }

// ApplyStep is the step Apply builds.
type ApplyStep struct{ Files []string }

func (ApplyStep) step() {}

func (s ApplyStep) Describe(*Renderer) string { return "apply " + strings.Join(s.Files, ", ") }

// Delete deletes the objects of manifest files; objects already gone are fine.
func Delete(files ...string) Step { return DeleteStep{Files: files} }

// DeleteStep is the step Delete builds.
type DeleteStep struct{ Files []string }

func (DeleteStep) step() {}

func (s DeleteStep) Describe(*Renderer) string { return "delete " + strings.Join(s.Files, ", ") }

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
func Patch(ref Ref, mergePatch string) Step { return PatchStep{Ref: ref, MergePatch: mergePatch} }

// PatchStep is the step Patch builds.
type PatchStep struct {
	Ref        Ref
	MergePatch string
}

func (PatchStep) step() {}

func (s PatchStep) Describe(rn *Renderer) string {
	return fmt.Sprintf("patch %s %s with %s", s.Ref.Kind.Kind, s.Ref.Name, strings.Join(strings.Fields(rn.Describe(s.MergePatch)), " "))
}

// Pause waits d, for what only wall-clock time gives (e.g. a later
// creationTimestamp, which has one-second resolution).
func Pause(d time.Duration, why string) Step { return PauseStep{Duration: d, Why: why} }

// PauseStep is the step Pause builds.
type PauseStep struct {
	Duration time.Duration
	Why      string
}

func (PauseStep) step() {}

func (s PauseStep) Describe(*Renderer) string { return fmt.Sprintf("pause %v %s", s.Duration, s.Why) }
