package harness

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"sync"
	"time"

	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"

	"github.com/keyconform/keyconform/suites/dialect"
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

// ScenarioLabel marks every namespace the suite creates with the scenario
// it belongs to, so leftovers are easy to find and delete.
const ScenarioLabel = "keyconform.dev/scenario"

// Runner runs scenarios in an Environment. It is safe for concurrent use.
type Runner struct {
	Env       Environment
	Manifests fs.FS
	Timeouts  TimeoutConfig
	// Cleanup deletes what a scenario created when it ends.
	Cleanup bool
	// Log receives each step as it runs, redacted.
	Log io.Writer
	// Dialect renders the scenarios' policies for the implementation.
	Dialect dialect.Dialect
	// Supports says whether the run claims a feature, for Only steps; nil
	// claims every feature.
	Supports func(features.Name) bool
	// Tamper, when set, alters every object before it is applied (after
	// the dialect renders it): a fault injector proving the suite reports
	// a broken implementation.
	Tamper func(k8s.Object)
	// Hooks adapt scenario objects to a real cluster.
	Hooks Hooks
	// Keys derives each scenario run's keys (scenario.KeySeed); nil gives
	// every run random keys.
	Keys scenario.KeySeed
	// Artifacts, when set, receives each scenario's data plane dumps
	// (admin config dump and stats) where the environment serves them, for
	// the run's leak scan.
	Artifacts string

	once   sync.Once
	res    *resources.Resources
	resErr error
}

// Result is how one scenario run ended. Failure is redacted.
type Result struct {
	ShortName   string
	Passed      bool
	Failure     string
	Duration    time.Duration
	Consistency []ConsistencySample
	// Redactor knows the run's keys, so callers can check output the
	// runner did not produce (e.g. logs captured during the run).
	Redactor *scenario.Redactor
}

// ConsistencySample is how long the implementation took, after a change,
// until requests consistently saw it: from the end of the mutating step to
// the first response of the run of matching responses.
type ConsistencySample struct {
	Mutation string        `json:"mutation"`
	Latency  time.Duration `json:"latencyNanos"`
}

// Run runs s and cleans up after it.
func (r *Runner) Run(ctx context.Context, s scenario.Scenario) Result {
	start := time.Now()
	x, err := r.newExecution(s)
	res := Result{ShortName: s.ShortName}
	if err == nil {
		defer x.reportProgress(ctx)()
		err = x.run(ctx)
		err = errors.Join(err, x.sweepLeaks(context.WithoutCancel(ctx), err != nil))
		x.dumpDataPlanes(context.WithoutCancel(ctx), r.Artifacts)
		res.Redactor = x.redactor
		if r.Cleanup {
			err = errors.Join(err, x.cleanup(ctx))
		}
		res.Consistency = x.samples
	}
	res.Duration = time.Since(start)
	res.Passed = err == nil
	if err != nil {
		res.Failure = err.Error()
		if x != nil {
			res.Failure = x.redactor.Redact(res.Failure)
		}
	}
	return res
}

func (r *Runner) resources() (*resources.Resources, error) {
	r.once.Do(func() {
		r.res, r.resErr = resources.New(r.Env.RESTConfig())
	})
	return r.res, r.resErr
}
