package scenario

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/keyconform/keyconform/suites/features"
)

// Outcome says whether a scenario runs and, if not, why.
type Outcome int

const (
	// Run: the scenario runs.
	Run Outcome = iota
	// SkippedByUser: --run-test, --skip-tests or an exempted core feature
	// left it out. A skipped core scenario makes the core result partial.
	SkippedByUser
	// NotSupported: it needs an extended feature the implementation does
	// not claim. It does not count against the implementation.
	NotSupported
)

// Decision is the outcome for one scenario and the reason shown to users.
type Decision struct {
	Outcome Outcome
	Reason  string
}

// Selection decides which scenarios run, with Gateway API conformance's
// rules: core features are always supported unless exempted, extended ones
// only when claimed (or with all features); --run-test runs one scenario
// whatever its features; --skip-tests leaves some out.
type Selection struct {
	Profile     features.Profile
	Supported   []features.Name
	Exempt      []features.Name
	AllFeatures bool
	RunTest     string
	SkipTests   []string
}

// SupportedFeatures returns the features scenarios may rely on, sorted.
func (s Selection) SupportedFeatures() []features.Name {
	supported := s.Profile.Core.Clone().Insert(s.Supported...)
	if s.AllFeatures {
		supported.Insert(s.Profile.Extended.UnsortedList()...)
	}
	supported.Delete(s.Exempt...)
	return sets.List(supported)
}

// Supports reports whether scenarios may rely on f in this run.
func (s Selection) Supports(f features.Name) bool {
	return slices.Contains(s.SupportedFeatures(), f)
}

// UnsupportedFeatures returns the profile's features scenarios may not rely on, sorted.
func (s Selection) UnsupportedFeatures() []features.Name {
	all := s.Profile.Core.Union(s.Profile.Extended)
	return sets.List(all.Delete(s.SupportedFeatures()...))
}

// Check rejects names of scenarios that do not exist, so a typo does not
// silently run or skip the wrong thing.
func (s Selection) Check(catalog []Scenario) error {
	names := make([]string, len(catalog))
	for i, sc := range catalog {
		names[i] = sc.ShortName
	}
	var unknown []string
	if s.RunTest != "" && !slices.Contains(names, s.RunTest) {
		unknown = append(unknown, s.RunTest)
	}
	for _, n := range s.SkipTests {
		if !slices.Contains(names, n) {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("unknown scenario(s) %s in --run-test/--skip-tests; scenarios: %s",
			strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	return nil
}

// Decide returns whether sc runs.
func (s Selection) Decide(sc Scenario) Decision {
	if s.RunTest != "" && s.RunTest != sc.ShortName {
		return Decision{SkippedByUser, "not the scenario --run-test selects"}
	}
	if slices.Contains(s.SkipTests, sc.ShortName) {
		return Decision{SkippedByUser, "listed in --skip-tests"}
	}
	if s.RunTest == sc.ShortName {
		return Decision{Outcome: Run}
	}
	supported := sets.New(s.SupportedFeatures()...)
	var missing []string
	exemptCore := false
	for _, f := range sc.Features {
		if supported.Has(f) {
			continue
		}
		missing = append(missing, string(f))
		if s.Profile.Core.Has(f) {
			exemptCore = true
		}
	}
	switch {
	case len(missing) == 0:
		return Decision{Outcome: Run}
	case exemptCore:
		return Decision{SkippedByUser, "needs exempted core feature(s) " + strings.Join(missing, ", ")}
	default:
		return Decision{NotSupported, "needs unsupported feature(s) " + strings.Join(missing, ", ")}
	}
}
