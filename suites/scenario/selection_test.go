package scenario

import (
	"strings"
	"testing"

	"github.com/keyconform/keyconform/suites/features"
)

func TestSelectionDecide(t *testing.T) {
	core := Scenario{ShortName: "Core", Features: []features.Name{features.APIKeyAuth}}
	ext := Scenario{ShortName: "Ext", Features: []features.Name{features.APIKeyAuth, features.QuerySource}}
	p := features.APIKeyAuthProfile
	tests := []struct {
		name string
		sel  Selection
		sc   Scenario
		want Outcome
	}{
		{"core runs by default", Selection{Profile: p}, core, Run},
		{"extended needs a claim", Selection{Profile: p}, ext, NotSupported},
		{"claimed extended runs", Selection{Profile: p, Supported: []features.Name{features.QuerySource}}, ext, Run},
		{"all features", Selection{Profile: p, AllFeatures: true}, ext, Run},
		{"exempted extended", Selection{Profile: p, AllFeatures: true, Exempt: []features.Name{features.QuerySource}}, ext, NotSupported},
		{"exempted core is a user skip", Selection{Profile: p, Exempt: []features.Name{features.APIKeyAuth}}, core, SkippedByUser},
		{"skip-tests", Selection{Profile: p, SkipTests: []string{"Core"}}, core, SkippedByUser},
		{"run-test of another", Selection{Profile: p, RunTest: "Ext"}, core, SkippedByUser},
		{"run-test ignores features", Selection{Profile: p, RunTest: "Ext"}, ext, Run},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.sel.Decide(tt.sc)
			if d.Outcome != tt.want {
				t.Errorf("Decide = %+v, want outcome %d", d, tt.want)
			}
			if d.Outcome != Run && d.Reason == "" {
				t.Error("a skip without a reason")
			}
		})
	}
}

func TestSelectionCheckRejectsUnknownNames(t *testing.T) {
	catalog := []Scenario{{ShortName: "Known"}}
	if err := (Selection{RunTest: "Known", SkipTests: []string{"Known"}}).Check(catalog); err != nil {
		t.Errorf("known names rejected: %v", err)
	}
	err := (Selection{RunTest: "Typo", SkipTests: []string{"Other"}}).Check(catalog)
	if err == nil || !strings.Contains(err.Error(), "Typo, Other") || !strings.Contains(err.Error(), "Known") {
		t.Errorf("err = %v, want the unknown names and the known ones", err)
	}
}

func TestProfileParseRejectsTypos(t *testing.T) {
	p := features.APIKeyAuthProfile
	got, err := p.Parse(" APIKeyAuthQuerySource ,APIKeyAuthCookieSource")
	if err != nil || len(got) != 2 {
		t.Fatalf("Parse = %v, %v", got, err)
	}
	if _, err := p.Parse("APIKeyAuthQuerysource"); err == nil || !strings.Contains(err.Error(), "known features") {
		t.Errorf("a typo was accepted: %v", err)
	}
	if got, err := p.Parse(""); err != nil || got != nil {
		t.Errorf("empty list = %v, %v", got, err)
	}
}
