package scenario

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/yaml"
)

// State is how a scenario ended, for the conformance report.
type State int

const (
	Passed State = iota
	Failed
	// Skipped: left out by the user (flags, label filter, exempted core
	// feature). Counted: a skipped core scenario makes core partial.
	Skipped
	// Unsupported: needs an extended feature not claimed. Not counted.
	Unsupported
)

// ScenarioState pairs a scenario with how it ended.
type ScenarioState struct {
	Scenario Scenario
	State    State
	// Reason says why a Skipped scenario did not run (a policy its
	// dialect cannot express, say); the report's summary quotes it.
	Reason string
}

// ReportInput is everything the conformance report says besides results.
type ReportInput struct {
	Implementation confv1.Implementation
	// Dialect is the policy dialect the suites spoke; the summary names it.
	Dialect           string
	Mode              string
	GatewayAPIVersion string
	GatewayAPIChannel string
	Date              time.Time
	Selection         Selection
}

// BuildReport makes the Gateway API ConformanceReport of one run, with one
// profile (API key auth), using Gateway API's rules: a scenario is extended
// when any feature it needs is not core; any failure makes a level fail,
// otherwise any skip makes it partial.
func BuildReport(in ReportInput, states []ScenarioState) confv1.ConformanceReport {
	profile := in.Selection.Profile
	pr := confv1.ProfileReport{Name: profile.Name, Extended: &confv1.ExtendedStatus{}}
	for _, f := range in.Selection.SupportedFeatures() {
		if profile.Extended.Has(f) {
			pr.Extended.SupportedFeatures = append(pr.Extended.SupportedFeatures, string(f))
		}
	}
	for _, f := range in.Selection.UnsupportedFeatures() {
		if profile.Extended.Has(f) {
			pr.Extended.UnsupportedFeatures = append(pr.Extended.UnsupportedFeatures, string(f))
		}
	}
	var skips []string
	for _, st := range states {
		status := &pr.Core
		if profile.IsExtended(st.Scenario.Features) {
			status = &pr.Extended.Status
		}
		name := st.Scenario.ShortName
		switch st.State {
		case Passed:
			status.Passed++
		case Failed:
			status.Failed++
			status.FailedTests = append(status.FailedTests, name)
		case Skipped:
			status.Skipped++
			status.SkippedTests = append(status.SkippedTests, name)
			if st.Reason != "" {
				skips = append(skips, name+" ("+st.Reason+")")
			}
		}
	}
	pr.Core.Result = levelResult(pr.Core.Statistics)
	pr.Extended.Result = levelResult(pr.Extended.Statistics)
	pr.Summary = fmt.Sprintf("Core tests %s. Extended tests %s.", summary(pr.Core), summary(pr.Extended.Status))
	if in.Dialect != "" {
		pr.Summary += fmt.Sprintf(" Policies in the %s dialect.", in.Dialect)
	}
	// The report's format lists skipped tests by name only; the summary
	// carries why, so a reader need not open the JUnit report.
	if len(skips) > 0 {
		pr.Summary += " Skipped: " + strings.Join(skips, "; ") + "."
	}
	return confv1.ConformanceReport{
		TypeMeta:          metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: "ConformanceReport"},
		Implementation:    in.Implementation,
		Date:              in.Date.UTC().Format(time.RFC3339),
		GatewayAPIVersion: in.GatewayAPIVersion,
		GatewayAPIChannel: in.GatewayAPIChannel,
		Mode:              in.Mode,
		ProfileReports:    []confv1.ProfileReport{pr},
	}
}

func levelResult(s confv1.Statistics) confv1.Result {
	switch {
	case s.Failed > 0:
		return confv1.Failure
	case s.Skipped > 0:
		return confv1.Partial
	default:
		return confv1.Success
	}
}

func summary(s confv1.Status) string {
	switch s.Result {
	case confv1.Failure:
		return fmt.Sprintf("failed with %d test failures", s.Failed)
	case confv1.Partial:
		return fmt.Sprintf("partially succeeded with %d test skips", s.Skipped)
	default:
		return fmt.Sprintf("succeeded (%d passed)", s.Passed)
	}
}

// WriteReport writes r as YAML to path, creating its directory.
func WriteReport(path string, r confv1.ConformanceReport) error {
	out, err := yaml.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding the conformance report: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing the conformance report: %w", err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("writing the conformance report: %w", err)
	}
	return nil
}
