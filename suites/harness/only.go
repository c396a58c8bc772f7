package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/keyconform/keyconform/suites/features"
)

// Only runs steps when the run claims feature, as Gateway API conformance
// tests branch on their suite's supported features: for what one
// implementation does its own way without failing API key auth itself
// (kgateway's status messages, its 500 body). Unclaimed, the steps are
// skipped and the run's log says so.
func Only(feature features.Name, steps ...Step) Step { return onlyStep{feature: feature, steps: steps} }

type onlyStep struct {
	feature features.Name
	steps   []Step
}

func (s onlyStep) describe(rn *renderer) string {
	descs := make([]string, len(s.steps))
	for i, st := range s.steps {
		descs[i] = st.describe(rn)
	}
	return fmt.Sprintf("with %s: %s", s.feature, strings.Join(descs, "; "))
}

func (s onlyStep) run(ctx context.Context, x *execution) error {
	if x.supports != nil && !x.supports(s.feature) {
		x.logf("skipped: %s is not claimed", s.feature)
		return nil
	}
	for i, st := range s.steps {
		if err := st.run(ctx, x); err != nil {
			return fmt.Errorf("(%s, part %d/%d) %w", s.feature, i+1, len(s.steps), err)
		}
	}
	return nil
}

// flatSteps lists steps with the steps of Only in place, for checks that
// look at every step whatever the run claims.
func flatSteps(steps []Step) []Step {
	var out []Step
	for _, st := range steps {
		if o, ok := st.(onlyStep); ok {
			out = append(out, flatSteps(o.steps)...)
			continue
		}
		out = append(out, st)
	}
	return out
}

// OnlyFeatures are the features s's Only steps depend on, in step order.
func (s Scenario) OnlyFeatures() []features.Name {
	var out []features.Name
	var walk func([]Step)
	walk = func(steps []Step) {
		for _, st := range steps {
			if o, ok := st.(onlyStep); ok {
				if !slices.Contains(out, o.feature) {
					out = append(out, o.feature)
				}
				walk(o.steps)
			}
		}
	}
	walk(s.Steps)
	return out
}
