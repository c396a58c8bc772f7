package run

import (
	"cmp"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/keyconform/keyconform/suites/baseline"
	"github.com/keyconform/keyconform/suites/harness"
	"github.com/keyconform/keyconform/suites/leakscan"
	"github.com/keyconform/keyconform/suites/scenario"
	"github.com/keyconform/keyconform/suites/scenarios"
)

// ConsistencyEntry names the Ginkgo report entry holding a scenario's times
// to consistency.
const ConsistencyEntry = "consistency"

// WriteReports writes what a run leaves under the artifacts directory: the
// JUnit report (its suite named with the implementation, dialect and
// target), the ConformanceReport, each scenario's result (for baselines)
// and the times to consistency, and prints a summary with the slowest
// scenarios. r is Ginkgo's report of every process's specs.
func WriteReports(r types.Report, opts Options, dialectName string) {
	if opts.Artifacts == "" {
		fmt.Fprintln(os.Stderr, "[suite] no reports: the suite did not get past its flags")
		return
	}
	if err := os.MkdirAll(opts.Artifacts, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "[suite] artifacts:", err)
		return
	}
	// The JUnit suite names what ran: implementation, dialect, target.
	impl := opts.Report.Implementation
	r.SuiteDescription = fmt.Sprintf("%s: %s/%s %s, %s dialect, %s target", r.SuiteDescription,
		impl.Organization, impl.Project, impl.Version, orDefault(dialectName, "no"), opts.Target.Target)
	opts.Report.Dialect = dialectName
	if err := reporters.GenerateJUnitReport(r, opts.JUnitOutput); err != nil {
		fmt.Fprintln(os.Stderr, "[suite] JUnit report:", err)
	}
	if failed := setupFailure(r); failed != "" {
		// Every scenario was skipped because the run never started: a
		// conformance report would read "partial" when nothing was tested.
		fmt.Fprintf(os.Stderr, "[suite] no conformance report: %s failed (see %s)\n", failed, opts.JUnitOutput)
		return
	}
	report := scenario.BuildReport(opts.Report, scenarioStates(r, opts.Selection))
	if err := scenario.WriteReport(opts.ReportOutput, report); err != nil {
		fmt.Fprintln(os.Stderr, "[suite]", err)
	}
	if err := report.Implementation.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "[suite] warning: the conformance report is incomplete: %v (set --organization --project --url --version --contact)\n", err)
	}
	writeJSON(filepath.Join(opts.Artifacts, "results-"+opts.RunName+".json"), scenarioResults(r))
	writeSuiteErrors(filepath.Join(opts.Artifacts, "suite-errors-"+opts.RunName+".txt"), r)
	stats := harness.SummarizeConsistency(consistencySamples(r))
	writeJSON(filepath.Join(opts.Artifacts, "consistency-"+opts.RunName+".json"), stats)

	var b strings.Builder
	fmt.Fprintf(&b, "[suite] %s\n", report.ProfileReports[0].Summary)
	fmt.Fprintf(&b, "[suite] reports: %s, %s\n", opts.ReportOutput, opts.JUnitOutput)
	fmt.Fprintf(&b, "[suite] wall time %.2fs; slowest scenarios:\n", r.RunTime.Seconds())
	for _, s := range slowest(r, 5) {
		fmt.Fprintf(&b, "    %-32s %6.2fs\n", s.LeafNodeText, s.RunTime.Seconds())
	}
	fmt.Fprintln(&b, "[suite] time to consistency by change (median / p90 / max, count):")
	for _, st := range stats {
		fmt.Fprintf(&b, "    %-48s %5dms %5dms %5dms  %d\n", st.Mutation,
			st.Median.Milliseconds(), st.P90.Milliseconds(), st.Max.Milliseconds(), st.Count)
	}
	fmt.Fprint(os.Stderr, b.String())
}

// setupFailure names the suite-level setup node that failed, if one did.
func setupFailure(r types.Report) string {
	for _, spec := range r.SpecReports {
		switch spec.LeafNodeType {
		case types.NodeTypeBeforeSuite, types.NodeTypeSynchronizedBeforeSuite:
			if spec.State.Is(types.SpecStateFailureStates) {
				return spec.LeafNodeType.String()
			}
		}
	}
	return ""
}

// suiteErrors are the failures of the suite's own nodes (setup, teardown),
// one line each: not a scenario's outcome, so a baseline comparison,
// which looks at scenarios only, must not pass over them.
func suiteErrors(r types.Report) []string {
	var out []string
	for _, spec := range r.SpecReports {
		if spec.LeafNodeType != types.NodeTypeIt && spec.State.Is(types.SpecStateFailureStates) {
			out = append(out, fmt.Sprintf("%s %s: %s", spec.LeafNodeType, spec.State, firstLine(spec.Failure.Message)))
		}
	}
	return out
}

// writeSuiteErrors writes suiteErrors to path, empty when there are none.
func writeSuiteErrors(path string, r types.Report) {
	var b strings.Builder
	for _, e := range suiteErrors(r) {
		b.WriteString(e + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "[suite]", err)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// scenarioStates maps Ginkgo's spec states to the report's.
func scenarioStates(r types.Report, sel scenario.Selection) []scenario.ScenarioState {
	var out []scenario.ScenarioState
	for s, spec := range scenarioSpecs(r) {
		var st scenario.State
		var reason string
		switch {
		case spec.State == types.SpecStatePassed:
			st = scenario.Passed
		case spec.State.Is(types.SpecStateFailureStates):
			st = scenario.Failed
		case sel.Decide(s).Outcome == scenario.NotSupported:
			st = scenario.Unsupported
		default: // skipped by flag, label filter or focus, or pending
			st, reason = scenario.Skipped, spec.Failure.Message
		}
		out = append(out, scenario.ScenarioState{Scenario: s, State: st, Reason: reason})
	}
	return out
}

// scenarioResults is each scenario's outcome, for comparison with an
// implementation's baseline (suites/baseline).
func scenarioResults(r types.Report) []baseline.Result {
	var out []baseline.Result
	for s, spec := range scenarioSpecs(r) {
		res := baseline.Result{Scenario: s.ShortName, Outcome: baseline.Skipped, Detail: spec.Failure.Message}
		switch {
		case spec.State == types.SpecStatePassed:
			res.Outcome, res.Detail = baseline.Passed, ""
		case spec.State.Is(types.SpecStateFailureStates):
			res.Outcome = baseline.Failed
		}
		out = append(out, res)
	}
	slices.SortFunc(out, func(a, b baseline.Result) int { return cmp.Compare(a.Scenario, b.Scenario) })
	return out
}

// scenarioSpecs yields the spec of each scenario in r, leaving out the
// suite's setup nodes and the self-test.
func scenarioSpecs(r types.Report) iter.Seq2[scenario.Scenario, types.SpecReport] {
	return func(yield func(scenario.Scenario, types.SpecReport) bool) {
		for _, spec := range r.SpecReports {
			if spec.LeafNodeType != types.NodeTypeIt {
				continue
			}
			s, ok := scenarios.Catalog.Get(spec.LeafNodeText)
			if !ok {
				continue // the self-test
			}
			if !yield(s, spec) {
				return
			}
		}
	}
}

func consistencySamples(r types.Report) []harness.ConsistencySample {
	var out []harness.ConsistencySample
	for _, spec := range r.SpecReports {
		for _, e := range spec.ReportEntries {
			if e.Name != ConsistencyEntry {
				continue
			}
			// In process the raw value is there; from other processes, JSON.
			if samples, ok := e.Value.GetRawValue().([]harness.ConsistencySample); ok {
				out = append(out, samples...)
				continue
			}
			var samples []harness.ConsistencySample
			if err := json.Unmarshal([]byte(e.Value.AsJSON), &samples); err == nil {
				out = append(out, samples...)
			}
		}
	}
	return out
}

func slowest(r types.Report, n int) []types.SpecReport {
	var specs []types.SpecReport
	for _, s := range r.SpecReports {
		ran := s.State == types.SpecStatePassed || s.State.Is(types.SpecStateFailureStates)
		if s.LeafNodeType == types.NodeTypeIt && ran {
			specs = append(specs, s)
		}
	}
	slices.SortFunc(specs, func(a, b types.SpecReport) int { return cmp.Compare(b.RunTime, a.RunTime) })
	return specs[:min(n, len(specs))]
}

func writeJSON(path string, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err == nil {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "[suite]", path+":", err)
	}
}

// ScanForKeys scans what the run left behind (its JUnit and conformance
// reports, results, and its evidence folder: the environment's logs and
// the data planes' admin dumps) for any key the redactor knows, and
// returns an error listing where (keys redacted). It writes the list to
// leaks-<run>.txt too, for make targets that judge a run by its files.
func ScanForKeys(opts Options, r *scenario.Redactor) error {
	res, err := leakscan.Scan(r, opts.JUnitOutput, opts.ReportOutput, opts.Evidence,
		filepath.Join(opts.Artifacts, "results-"+opts.RunName+".json"),
		filepath.Join(opts.Artifacts, "consistency-"+opts.RunName+".json"))
	if err != nil {
		return err
	}
	leaksFile := filepath.Join(opts.Artifacts, "leaks-"+opts.RunName+".txt")
	if len(res.Leaks) == 0 {
		fmt.Fprintf(os.Stderr, "[suite] leak scan: no API key in %d files (%d bytes) the run left\n", res.Files, res.Bytes)
		return os.RemoveAll(leaksFile)
	}
	list := strings.Join(res.Leaks, "\n")
	if err := os.WriteFile(leaksFile, []byte(list+"\n"), 0o644); err != nil {
		return err
	}
	return fmt.Errorf("leak scan: API keys in what the run left (%s):\n%s", leaksFile, list)
}
