package scenario

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/keyconform/keyconform/suites/features"
)

// Scenario is one conformance test: manifests applied into fresh
// namespaces, then steps. It is the Gateway API conformance test shape (a
// .go file and a manifest folder of the same name) with declarative steps.
type Scenario struct {
	// ShortName names the scenario in flags, labels and reports.
	ShortName string
	// Description says in a sentence what the scenario proves.
	Description string
	// Features are what an implementation must support for the scenario
	// to run.
	Features []features.Name
	// Namespaces are aliases of extra namespaces, created with the main
	// one and reachable in templates as {{ns "alias"}}.
	Namespaces []string
	// Keys are the API keys the scenario uses, by name; each gets a fresh
	// random value per run ({{key "name"}} in templates).
	Keys []string
	// LiteralKeys are keys whose exact value matters (e.g. characters that
	// need percent-encoding).
	LiteralKeys map[string]string
	// Manifests are applied in order before the steps. A name without a
	// slash is in the scenario's folder (fixtures/scenarios/<Dir>/);
	// otherwise it is relative to fixtures/scenarios (e.g. base/route.yaml).
	Manifests []string
	// Steps run in order after the manifests.
	Steps []Step

	// Dir is the scenario's manifest folder, named like its .go file; the
	// registry sets it.
	Dir string
}

// ManifestPath resolves a manifest name of s (see Manifests) in the
// manifest tree.
func (s Scenario) ManifestPath(name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	return path.Join(s.Dir, name)
}

// shortNamePattern keeps names usable as Ginkgo labels and flag values.
var shortNamePattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9]+$`)

// Validate checks the rules every scenario follows, notably that every
// 200 says what the backend received and every other status is a local
// reply whose body is fixed (so "backend not reached" is asserted).
func (s Scenario) Validate(profile features.Profile) error {
	var errs []error
	if !shortNamePattern.MatchString(s.ShortName) {
		errs = append(errs, fmt.Errorf("short name %q must be CamelCase letters and digits", s.ShortName))
	}
	if s.Description == "" {
		errs = append(errs, errors.New("description is empty"))
	}
	if len(s.Features) == 0 {
		errs = append(errs, errors.New("no features: every scenario needs at least one"))
	}
	known := profile.Core.Union(profile.Extended)
	for _, f := range s.Features {
		if !known.Has(f) {
			errs = append(errs, fmt.Errorf("feature %q is not in profile %s", f, profile.Name))
		}
	}
	if len(s.Manifests) == 0 {
		errs = append(errs, errors.New("no manifests"))
	}
	if s.Dir == "" {
		errs = append(errs, errors.New("no manifest folder (register the scenario through a Registry)"))
	}
	expects := 0
	for i, st := range flatSteps(s.Steps) {
		if e, ok := st.(ExpectStep); ok {
			expects++
			if err := e.Response.validate(); err != nil {
				errs = append(errs, fmt.Errorf("step %d: %w", i+1, err))
			}
			if e.Each < 0 {
				errs = append(errs, fmt.Errorf("step %d: ExpectEach of %d requests", i+1, e.Each))
			}
		}
	}
	if expects == 0 {
		errs = append(errs, errors.New("no request expectation: a scenario must send traffic"))
	}
	if slices.Contains(s.Namespaces, "") {
		errs = append(errs, errors.New("empty namespace alias"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("scenario %q: %w", s.ShortName, err)
	}
	return nil
}

func (r Response) validate() error {
	ok := r.Status >= 200 && r.Status < 300
	switch {
	case r.Status < 100 || r.Status > 599:
		return fmt.Errorf("status %d is not an HTTP status", r.Status)
	case ok && r.Backend == nil && len(r.Headers) == 0:
		return fmt.Errorf("a %d must say what the backend received (Backend), or be a local reply stating the headers that make it one (Headers)", r.Status)
	case !ok && r.Backend != nil:
		return fmt.Errorf("a %d is a local reply: it cannot have Backend expectations", r.Status)
	case r.Backend != nil && (r.Body != "" || r.NoBody):
		return fmt.Errorf("a %d's body is the backend's echo: state Backend expectations instead of Body", r.Status)
	case r.NoBody && r.Body != "":
		return errors.New("NoBody and a Body: a local reply has one or the other")
	case r.AnyBody && (r.Body != "" || r.NoBody || r.Status < 500):
		return fmt.Errorf("AnyBody is for a 5xx local reply without Body or NoBody, not a %d", r.Status)
	case r.Backend == nil && r.Body == "" && !r.NoBody && !r.AnyBody:
		return fmt.Errorf("a %d must state its exact local reply body (or NoBody), which proves the backend was not reached", r.Status)
	}
	return nil
}
