package run

import (
	"reflect"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

// TestSuiteErrors lists failed setup and teardown nodes, not scenarios:
// a baseline comparison judges those, and would pass over the others.
func TestSuiteErrors(t *testing.T) {
	spec := func(node types.NodeType, state types.SpecState, msg string) types.SpecReport {
		return types.SpecReport{LeafNodeType: node, State: state, Failure: types.Failure{Message: msg}}
	}
	r := types.Report{SpecReports: types.SpecReports{
		spec(types.NodeTypeSynchronizedBeforeSuite, types.SpecStatePassed, ""),
		spec(types.NodeTypeIt, types.SpecStateFailed, "step 1/3 failed"),
		spec(types.NodeTypeSynchronizedAfterSuite, types.SpecStateFailed, "stopping kube-apiserver and etcd: timeout\nmore"),
		spec(types.NodeTypeAfterSuite, types.SpecStateTimedout, "suite timeout"),
	}}
	want := []string{
		"SynchronizedAfterSuite failed: stopping kube-apiserver and etcd: timeout",
		"AfterSuite timedout: suite timeout",
	}
	if got := suiteErrors(r); !reflect.DeepEqual(got, want) {
		t.Errorf("suiteErrors = %q, want %q", got, want)
	}
	if got := suiteErrors(types.Report{SpecReports: types.SpecReports{spec(types.NodeTypeIt, types.SpecStateFailed, "x")}}); got != nil {
		t.Errorf("a failed scenario is not a suite error: %q", got)
	}
}
