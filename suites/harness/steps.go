package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/keyconform/keyconform/suites/scenario"
)

// runStep interprets one step of the scenario language. Steps are data in
// package scenario, which knows nothing of clusters; what each one does
// against a live implementation is decided here, one case per step type.
func (x *execution) runStep(ctx context.Context, st scenario.Step) error {
	switch st := st.(type) {
	case scenario.ApplyStep:
		return x.applyFiles(ctx, st.Files)
	case scenario.DeleteStep:
		return x.deleteFiles(ctx, st.Files)
	case scenario.PatchStep:
		return x.patch(ctx, st)
	case scenario.ExpectStep:
		return x.expect(ctx, st)
	case scenario.ConditionStep:
		return x.expectCondition(ctx, st)
	case scenario.PauseStep:
		return pause(ctx, st.Duration)
	case scenario.OnlyStep:
		return x.only(ctx, st)
	default:
		// Unreachable while scenario.Step is sealed and every type has
		// its case above.
		return fmt.Errorf("the harness cannot run a %T step", st)
	}
}

// only runs the steps of Only when the run claims its feature.
func (x *execution) only(ctx context.Context, s scenario.OnlyStep) error {
	if x.supports != nil && !x.supports(s.Feature) {
		x.logf("skipped: %s is not claimed", s.Feature)
		return nil
	}
	for i, st := range s.Steps {
		if err := x.runStep(ctx, st); err != nil {
			return fmt.Errorf("(%s, part %d/%d) %w", s.Feature, i+1, len(s.Steps), err)
		}
	}
	return nil
}

// pause waits d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
