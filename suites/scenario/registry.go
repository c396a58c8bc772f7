package scenario

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Registry holds scenarios, each registered from the init function of its
// own .go file, like Gateway API conformance's ConformanceTests list.
type Registry struct {
	mu        sync.Mutex
	scenarios []Scenario
}

// Register adds s, naming its manifest folder after the calling file
// (query-source.go -> fixtures/scenarios/query-source/). It panics on a
// duplicate short name or folder: registration happens at init, where a
// panic is the only way to stop a broken catalog.
func (r *Registry) Register(s Scenario) {
	_, file, _, ok := runtime.Caller(1)
	if !ok {
		panic("scenario: cannot tell which file registers scenario " + s.ShortName)
	}
	s.Dir = strings.TrimSuffix(filepath.Base(file), ".go")
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, other := range r.scenarios {
		if other.ShortName == s.ShortName || other.Dir == s.Dir {
			panic(fmt.Sprintf("scenario: scenario %s (%s) registered twice", s.ShortName, s.Dir))
		}
	}
	r.scenarios = append(r.scenarios, s)
}

// All returns the scenarios sorted by short name.
func (r *Registry) All() []Scenario {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.scenarios)
	slices.SortFunc(out, func(a, b Scenario) int { return strings.Compare(a.ShortName, b.ShortName) })
	return out
}

// Get returns the scenario with this short name.
func (r *Registry) Get(shortName string) (Scenario, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.IndexFunc(r.scenarios, func(s Scenario) bool { return s.ShortName == shortName })
	if i < 0 {
		return Scenario{}, false
	}
	return r.scenarios[i], true
}
