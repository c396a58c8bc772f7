package baseline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	b := Baseline{Scenarios: map[string]Expected{
		"ValidKey":      {Outcome: Passed},
		"MissingSecret": {Outcome: Failed, Reason: "500 without kgateway's body"},
		"LabelSelector": {Outcome: Skipped, Reason: "no selector in the dialect"},
	}}
	tests := []struct {
		name    string
		results []Result
		want    []string // fragments, one per expected difference
	}{
		{name: "as expected", results: []Result{
			{"ValidKey", Passed, ""}, {"MissingSecret", Failed, "step 1/9 failed"}, {"LabelSelector", Skipped, "no selector"},
		}},
		{name: "a new failure", results: []Result{
			{"ValidKey", Failed, "step 2/3 failed: expect 200\nmore"}, {"MissingSecret", Failed, ""}, {"LabelSelector", Skipped, ""},
		}, want: []string{"ValidKey: failed (step 2/3 failed: expect 200), baseline says passed"}},
		{name: "a new pass", results: []Result{
			{"ValidKey", Passed, ""}, {"MissingSecret", Passed, ""}, {"LabelSelector", Skipped, ""},
		}, want: []string{"MissingSecret: passed, baseline says failed (500 without kgateway's body)"}},
		{name: "unknown and missing scenarios", results: []Result{
			{"ValidKey", Passed, ""}, {"MissingSecret", Failed, ""}, {"NewScenario", Passed, ""},
		}, want: []string{"LabelSelector: not in the run", "NewScenario: passed, and the baseline does not know it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(b, tt.results)
			if len(got) != len(tt.want) {
				t.Fatalf("differences %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("difference %q does not contain %q", got[i], w)
				}
			}
		})
	}
}

func TestLoadRequiresReasons(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, text, wantErr string }{
		{"valid", "implementation: x\ndialect: d\ntarget: sim\nscenarios:\n  A: {outcome: passed}\n  B: {outcome: failed, reason: why}\n", ""},
		{"failure without reason", "scenarios:\n  B: {outcome: failed}\n", "B: a failed scenario needs a reason"},
		{"unknown outcome", "scenarios:\n  B: {outcome: flaky, reason: x}\n", `outcome "flaky"`},
		{"unknown field", "scenario: {}\n", "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".yaml")
			if err := os.WriteFile(p, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Load: %v, want %q", err, tt.wantErr)
			}
		})
	}
}
