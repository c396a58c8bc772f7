// Package baseline compares a run's outcome, scenario by scenario, with
// the outcome committed for an implementation: the regression check an
// implementer runs in CI. Every scenario that does not pass is in the
// baseline with the reason, so no failure is hidden; any change, a new
// failure or a new pass alike, fails the comparison and names the scenario.
package baseline

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Outcomes of a scenario.
const (
	Passed  = "passed"
	Failed  = "failed"
	Skipped = "skipped"
)

// Result is how one scenario of a run ended.
type Result struct {
	Scenario string `json:"scenario"`
	Outcome  string `json:"outcome"`
	// Detail is the skip reason or the failure's first line.
	Detail string `json:"detail,omitempty"`
}

// Baseline is the committed outcome of every scenario for one
// implementation on one target.
type Baseline struct {
	Implementation string `json:"implementation"`
	Dialect        string `json:"dialect"`
	Target         string `json:"target"`
	// Scenarios maps every scenario to its expected outcome.
	Scenarios map[string]Expected `json:"scenarios"`
}

// Expected is one scenario's expected outcome; Reason is required for
// anything but a pass: what the implementation does instead, with
// evidence (its code or docs), or why the dialect cannot express it.
type Expected struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// Load reads a baseline file and checks it.
func Load(path string) (Baseline, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Baseline{}, fmt.Errorf("reading the baseline: %w", err)
	}
	var b Baseline
	if err := yaml.UnmarshalStrict(raw, &b); err != nil {
		return Baseline{}, fmt.Errorf("baseline %s: %w", path, err)
	}
	var problems []string
	for name, e := range b.Scenarios {
		switch {
		case e.Outcome != Passed && e.Outcome != Failed && e.Outcome != Skipped:
			problems = append(problems, fmt.Sprintf("%s: outcome %q, want %s, %s or %s", name, e.Outcome, Passed, Failed, Skipped))
		case e.Outcome != Passed && strings.TrimSpace(e.Reason) == "":
			problems = append(problems, fmt.Sprintf("%s: a %s scenario needs a reason", name, e.Outcome))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return Baseline{}, fmt.Errorf("baseline %s:\n  %s", path, strings.Join(problems, "\n  "))
	}
	return b, nil
}

// LoadResults reads the results a run wrote.
func LoadResults(path string) ([]Result, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the run's results (did the suite run?): %w", err)
	}
	var rs []Result
	if err := json.Unmarshal(raw, &rs); err != nil {
		return nil, fmt.Errorf("results %s: %w", path, err)
	}
	return rs, nil
}

// Compare lists every difference between a run and the baseline, one line
// each, sorted: a scenario whose outcome changed, one the baseline does not
// know, one the run did not report.
func Compare(b Baseline, results []Result) []string {
	var diffs []string
	seen := map[string]bool{}
	for _, r := range results {
		seen[r.Scenario] = true
		e, ok := b.Scenarios[r.Scenario]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: %s, and the baseline does not know it (add it)", r.Scenario, describe(r.Outcome, r.Detail)))
		case e.Outcome != r.Outcome:
			diffs = append(diffs, fmt.Sprintf("%s: %s, baseline says %s", r.Scenario, describe(r.Outcome, r.Detail), describe(e.Outcome, e.Reason)))
		}
	}
	for name, e := range b.Scenarios {
		if !seen[name] {
			diffs = append(diffs, fmt.Sprintf("%s: not in the run, baseline says %s", name, describe(e.Outcome, e.Reason)))
		}
	}
	slices.Sort(diffs)
	return diffs
}

func describe(outcome, detail string) string {
	if detail == "" {
		return outcome
	}
	line, _, _ := strings.Cut(detail, "\n")
	return fmt.Sprintf("%s (%s)", outcome, line)
}
