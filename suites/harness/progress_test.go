package harness

import (
	"context"
	"strings"
	"testing"

	"github.com/keyconform/keyconform/suites/scenario"
)

// specContext takes progress reporters as Ginkgo's SpecContext does.
type specContext struct {
	context.Context
	reporters []func() string
	detached  int
}

func (c *specContext) AttachProgressReporter(f func() string) func() {
	c.reporters = append(c.reporters, f)
	return func() { c.detached++ }
}

// TestProgressReportsTheStepRedacted: a progress report names the scenario,
// its step and the last response, with keys as placeholders; a context
// that takes no reporters is fine.
func TestProgressReportsTheStepRedacted(t *testing.T) {
	ks, err := scenario.NewKeySet([]string{"client1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := ks.Value("client1")
	x := &execution{scenario: scenario.Scenario{ShortName: "Rotation"}, redactor: scenario.NewRedactor(ks)}
	ctx := &specContext{Context: context.Background()}
	detach := x.reportProgress(ctx)
	if len(ctx.reporters) != 1 {
		t.Fatalf("%d progress reporters attached, want 1", len(ctx.reporters))
	}
	x.now.setStep("step 2/5: expect GET /headers with api-key " + v)
	x.now.setDetail(func() string { return "last response: 200 from the backend, which received api-key " + v })
	got := ctx.reporters[0]()
	for _, want := range []string{"Rotation: step 2/5", "api-key <key:client1>", "last response: 200"} {
		if !strings.Contains(got, want) {
			t.Errorf("progress report %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, v) {
		t.Error("the progress report holds the key itself")
	}
	x.now.setStep("step 3/5: pause 1s")
	if got := ctx.reporters[0](); strings.Contains(got, "last response") {
		t.Errorf("a new step kept the previous step's detail: %q", got)
	}
	detach()
	if ctx.detached != 1 {
		t.Error("the reporter was not detached")
	}
	x.reportProgress(context.Background())()
}
