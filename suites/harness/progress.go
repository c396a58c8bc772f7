package harness

import (
	"context"
	"sync"
)

// progress is what a scenario is doing now: its step and, while an
// expectation waits, the last response. Ginkgo prints it in the progress
// reports of a spec that runs long, as they happen, also under ginkgo -p,
// where a process's own output is shown only after its spec ends.
type progress struct {
	mu   sync.Mutex
	step string
	// detail is described only when a report asks: it is set on every
	// attempt of an expectation, reports are rare.
	detail func() string
}

func (p *progress) setStep(step string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step, p.detail = step, nil
}

func (p *progress) setDetail(detail func() string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.detail = detail
}

func (p *progress) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.detail == nil {
		return p.step
	}
	return p.step + "\n" + p.detail()
}

// progressReporter is how a spec's context takes a function whose text
// goes into the spec's progress reports (Ginkgo's SpecContext is one); the
// returned function detaches it.
type progressReporter interface {
	AttachProgressReporter(func() string) func()
}

// reportProgress attaches x's progress, redacted, to ctx's progress
// reports when ctx takes them.
func (x *execution) reportProgress(ctx context.Context) (detach func()) {
	r, ok := ctx.(progressReporter)
	if !ok {
		return func() {}
	}
	return r.AttachProgressReporter(func() string {
		return x.redactor.Redact(x.scenario.ShortName + ": " + x.now.String())
	})
}
