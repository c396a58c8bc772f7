package scenario

import (
	"path/filepath"
	"testing"
	"time"

	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/internal/golden"
	"github.com/keyconform/keyconform/suites/features"
)

func TestBuildReportGolden(t *testing.T) {
	sc := func(name string, f ...features.Name) Scenario { return Scenario{ShortName: name, Features: f} }
	in := ReportInput{
		Implementation: confv1.Implementation{Organization: "keyconform", Project: "keyconform",
			URL: "https://example.com/keyconform", Version: "v0.1.0", Contact: []string{"@keyconform/maintainers"}},
		Mode: "default", GatewayAPIVersion: "v1.6.3", GatewayAPIChannel: "standard", Dialect: "kgateway",
		Date: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC),
		Selection: Selection{Profile: features.APIKeyAuthProfile,
			Supported: []features.Name{features.QuerySource, features.CookieSource}},
	}
	states := []ScenarioState{
		{sc("MissingKey", features.APIKeyAuth), Passed, ""},
		{sc("CustomHeader", features.APIKeyAuth, features.HeaderSource), Failed, ""},
		{sc("DisableOnRoute", features.Disable), Skipped, "not expressible in the envoy-gateway dialect: disable"},
		{sc("QuerySource", features.QuerySource), Passed, ""},
		{sc("CookieSource", features.CookieSource), Passed, ""},
		{sc("LabelSelector", features.LabelSelector), Unsupported, ""},
	}
	got, err := yaml.Marshal(BuildReport(in, states))
	if err != nil {
		t.Fatal(err)
	}
	golden.Compare(t, filepath.Join("testdata", "report.golden.yaml"), got, nil)
}

func TestBuildReportResults(t *testing.T) {
	sel := Selection{Profile: features.APIKeyAuthProfile}
	core := Scenario{ShortName: "C", Features: []features.Name{features.APIKeyAuth}}
	tests := []struct {
		states []ScenarioState
		want   confv1.Result
	}{
		{[]ScenarioState{{core, Passed, ""}}, confv1.Success},
		{[]ScenarioState{{core, Passed, ""}, {core, Skipped, "by flag"}}, confv1.Partial},
		{[]ScenarioState{{core, Skipped, ""}, {core, Failed, ""}}, confv1.Failure},
	}
	for _, tt := range tests {
		r := BuildReport(ReportInput{Selection: sel}, tt.states)
		if got := r.ProfileReports[0].Core.Result; got != tt.want {
			t.Errorf("core result = %s, want %s", got, tt.want)
		}
	}
}
