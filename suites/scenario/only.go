package scenario

import (
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
func Only(feature features.Name, steps ...Step) Step { return OnlyStep{Feature: feature, Steps: steps} }

// OnlyStep is the step Only builds.
type OnlyStep struct {
	Feature features.Name
	Steps   []Step
}

func (OnlyStep) step() {}

func (s OnlyStep) Describe(rn *Renderer) string {
	descs := make([]string, len(s.Steps))
	for i, st := range s.Steps {
		descs[i] = st.Describe(rn)
	}
	return fmt.Sprintf("with %s: %s", s.Feature, strings.Join(descs, "; "))
}

// flatSteps lists steps with the steps of Only in place, for checks that
// look at every step whatever the run claims.
func flatSteps(steps []Step) []Step {
	var out []Step
	for _, st := range steps {
		if o, ok := st.(OnlyStep); ok {
			out = append(out, flatSteps(o.Steps)...)
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
			if o, ok := st.(OnlyStep); ok {
				if !slices.Contains(out, o.Feature) {
					out = append(out, o.Feature)
				}
				walk(o.Steps)
			}
		}
	}
	walk(s.Steps)
	return out
}
