package scenarios

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// specPath is the project's specification, docs/spec.md.
const specPath = "../../docs/spec.md"

// A rule is defined by a heading "#### <ID>: <title>"; the index is the
// table under "## Index", one row "| <ShortName> | <rule IDs> |" per
// scenario.
var (
	ruleHeading = regexp.MustCompile(`(?m)^#### ([A-Z]+-[0-9]{2}):`)
	indexRow    = regexp.MustCompile(`(?m)^\| ([A-Z][A-Za-z0-9]+) \| (.*) \|$`)
)

func readSpec(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatalf("reading the specification: %v", err)
	}
	return string(b)
}

// TestSpecCoversEveryScenario fails when a registered scenario is missing
// from the spec's index, or the index names a scenario or rule that does
// not exist.
func TestSpecCoversEveryScenario(t *testing.T) {
	spec := readSpec(t)
	_, index, ok := strings.Cut(spec, "\n## Index")
	if !ok {
		t.Fatalf("%s has no \"## Index\" section", specPath)
	}
	defined := map[string]bool{}
	for _, m := range ruleHeading.FindAllStringSubmatch(spec, -1) {
		defined[m[1]] = true
	}
	rows := map[string]bool{}
	for _, m := range indexRow.FindAllStringSubmatch(index, -1) {
		if m[1] == "Scenario" {
			continue // the header row
		}
		rows[m[1]] = true
		if _, ok := Catalog.Get(m[1]); !ok {
			t.Errorf("the index of %s lists %s, which is not a registered scenario", specPath, m[1])
		}
		for id := range strings.SplitSeq(m[2], ",") {
			if id = strings.TrimSpace(id); !defined[id] {
				t.Errorf("the index row of %s names rule %q, which %s does not define", m[1], id, specPath)
			}
		}
	}
	for _, s := range Catalog.All() {
		if !rows[s.ShortName] {
			t.Errorf("scenario %s (%s.go) is missing from the index of %s: add a row with the rules it asserts", s.ShortName, s.Dir, specPath)
		}
	}
}

// TestSpecRuleIDsAreUnique fails when two rules of the spec share an ID.
func TestSpecRuleIDsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range ruleHeading.FindAllStringSubmatch(readSpec(t), -1) {
		if seen[m[1]] {
			t.Errorf("rule %s is defined more than once in %s", m[1], specPath)
		}
		seen[m[1]] = true
	}
	if len(seen) == 0 {
		t.Errorf("%s defines no rule (headings \"#### <ID>: <title>\")", specPath)
	}
}
