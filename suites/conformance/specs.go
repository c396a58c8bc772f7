// Package conformance is the API key auth conformance suite as Ginkgo
// specs: one spec per scenario, labelled with its features (and
// core/extended), so --ginkgo.label-filter selects by feature. Reports
// (JUnit and a Gateway API ConformanceReport) go under $ARTIFACTS. The
// specs run from the test package ./suites (go test, or ginkgo -p for
// parallel processes) or from the keyconform-suites program.
package conformance

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/e2e-framework/klient/k8s"

	"github.com/keyconform/keyconform/suites/dialect"
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/harness"
	"github.com/keyconform/keyconform/suites/run"
	"github.com/keyconform/keyconform/suites/scenario"
	"github.com/keyconform/keyconform/suites/scenarios"
	"github.com/keyconform/keyconform/suites/targets"
)

// Run runs every spec; t is the test, or the program's own failure
// recorder. It reports whether the suite passed.
func Run(t GinkgoTestingT) bool {
	RegisterFailHandler(Fail)
	suiteConfig, reporterConfig := GinkgoConfiguration()
	// A spec running longer than this reports its step and last response
	// as it runs (--poll-progress-after changes it; the ginkgo CLI passes
	// its own value to every process).
	if suiteConfig.PollProgressAfter == 0 {
		suiteConfig.PollProgressAfter = 10 * time.Second
	}
	return RunSpecs(t, "API key auth conformance", suiteConfig, reporterConfig)
}

var (
	flags    = run.RegisterFlags(flag.CommandLine)
	opts     run.Options
	started  targets.Started  // on the process that started the target
	attached targets.Attached // on the others
	runner   *harness.Runner
	// gaps are the scenarios the run's dialect cannot express, with why.
	gaps map[string]string
	// dialectName is the run's dialect, on the process that chose it
	// (the one that writes the reports).
	dialectName string
	// procFailed records a failed scenario in this process.
	procFailed atomic.Bool
	// keySeed derives every scenario's keys, on the process that made it
	// (the one that writes the reports and scans them for keys).
	keySeed scenario.KeySeed
	// envLog is where the environment's components log, on that process.
	envLog *os.File
)

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	o, err := flags.Options()
	must(err)
	opts = o // so the reports are written even if the target fails to start
	for _, s := range scenarios.Catalog.All() {
		must(scenario.Lint(s, scenarios.Manifests, features.APIKeyAuthProfile))
	}
	// klog (client-go, and controller-runtime as e2e-framework sets it up)
	// goes where spec output goes: shown on failure, not in the way.
	must(run.RouteKlog(GinkgoWriter))
	// The environment's components (the sim's control plane and data
	// planes) also log to a file under the artifacts, which the run's leak
	// scan reads.
	logs := []slog.Handler{slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelWarn})}
	if o.Artifacts != "" {
		// Evidence of an earlier run under the same name must not be
		// scanned as this run's.
		must(os.RemoveAll(o.Evidence))
		envLog, err = createLog(filepath.Join(o.Evidence, "logs", "environment.log"))
		must(err)
		logs = append(logs, slog.NewTextHandler(envLog, nil))
	}
	o.Target.Logger = slog.New(slog.NewMultiHandler(logs...))
	keySeed, err = scenario.NewKeySeed()
	must(err)
	start := time.Now()
	st, err := targets.Start(ctx, o.Target)
	must(err)
	started = st
	class, err := harness.AwaitGatewayClass(ctx, started, o.Timeouts)
	must(err)
	controller := class.ControllerName
	if taken := opts.ClaimPublished(class.SupportedFeatures); len(taken) > 0 {
		progressf("[suite] claiming the features GatewayClass %s publishes: %v", started.GatewayClass(), taken)
	}
	d, err := chooseDialect(o.Target.Implementation, controller)
	must(err)
	dialectName = d.Name()
	version, channel, err := harness.GatewayAPIBundle(ctx, started)
	must(err)
	if o.Target.Target == targets.Cluster {
		must(harness.CheckGatewayAPIBundle(version, opts.Report.GatewayAPIVersion, o.AllowCRDs))
	}
	opts.Report.GatewayAPIVersion, opts.Report.GatewayAPIChannel = version, channel
	progressf("[suite] target %s ready in %.2fs; GatewayClass %s (%s), dialect %s",
		o.Target.Target, time.Since(start).Seconds(), started.GatewayClass(), controller, d.Name())
	handle := started.Handle()
	handle.Dialect = d.Name()
	handle.PublishedFeatures = class.SupportedFeatures
	handle.KeySeed = keySeed
	h, err := handle.Encode()
	must(err)
	return h
}, func(ctx SpecContext, data []byte) {
	var err error
	opts, err = flags.Options()
	must(err)
	h, err := targets.DecodeHandle(data)
	must(err)
	var env harness.Environment = started
	if started == nil {
		attached, err = targets.Attach(h)
		must(err)
		env = attached
	}
	opts.ClaimPublished(h.PublishedFeatures)
	d, err := dialect.ByName(h.Dialect)
	must(err)
	gaps = map[string]string{}
	for _, s := range scenarios.Catalog.All() {
		reason, err := scenario.DialectGap(s, scenarios.Manifests, d)
		must(err)
		if reason != "" {
			gaps[s.ShortName] = fmt.Sprintf("not expressible in the %s dialect: %s", d.Name(), reason)
		}
	}
	runner = &harness.Runner{Env: env, Manifests: scenarios.Manifests, Timeouts: opts.Timeouts, Dialect: d,
		Supports: opts.Selection.Supports, Hooks: opts.Hooks, Cleanup: opts.Cleanup, Log: GinkgoWriter,
		Keys: h.KeySeed, Artifacts: opts.Evidence}
})

// chooseDialect is --implementation when given, else the dialect of the
// GatewayClass's controller.
func chooseDialect(flag, controller string) (dialect.Dialect, error) {
	if flag != "" {
		return dialect.ByName(flag)
	}
	return dialect.ForController(controller)
}

// ReportAfterSuite sees every process's specs and writes the run's reports,
// then scans everything the run left under the artifacts for its keys.
var _ = ReportAfterSuite("reports", func(r Report) {
	run.WriteReports(r, opts, dialectName)
	if keySeed == nil || opts.Artifacts == "" {
		return // the run never started
	}
	keys, err := scenario.RunKeys(keySeed, append(scenarios.Catalog.All(), selfTestScenario()))
	must(err)
	must(run.ScanForKeys(opts, scenario.NewRedactor(keys)))
})

var _ = SynchronizedAfterSuite(func() {
	if attached != nil {
		must(attached.Close())
	}
}, func(ctx SpecContext) {
	if envLog != nil {
		defer envLog.Close()
	}
	if started == nil {
		return
	}
	// Other processes' results are not visible here; in parallel runs
	// count the run as failed so a kind cluster's logs are kept.
	suiteConfig, _ := GinkgoConfiguration()
	failed := procFailed.Load() || suiteConfig.ParallelTotal > 1
	must(started.Stop(ctx, failed))
})

var _ = Describe("API key auth", func() {
	for _, s := range scenarios.Catalog.All() {
		It(s.ShortName, Label(specLabels(s)...), func(ctx SpecContext) {
			if d := opts.Selection.Decide(s); d.Outcome != scenario.Run {
				Skip(d.Reason)
			}
			if reason := gaps[s.ShortName]; reason != "" {
				Skip(reason)
			}
			res := runner.Run(ctx, s)
			AddReportEntry(run.ConsistencyEntry, res.Consistency, ReportEntryVisibilityNever)
			if !res.Passed {
				procFailed.Store(true)
				Fail(res.Failure)
			}
			// Logs captured during the run (the implementation's too, on
			// sim) must not hold a key either.
			if res.Redactor != nil && res.Redactor.Leaks(CurrentSpecReport().CapturedGinkgoWriterOutput) {
				procFailed.Store(true)
				Fail("an API key appeared in the output captured during the scenario (logs of the suite or the implementation)")
			}
		})
	}

	It("SelfTest: the suite fails an implementation whose API key auth is switched off", Label("selftest"), func(ctx SpecContext) {
		if opts.Selection.RunTest != "" {
			Skip("--run-test selects one scenario")
		}
		s := selfTestScenario()
		tc := opts.Timeouts
		// The tampered data plane never turns consistent; a short window is
		// enough to see that and keeps the self-test cheap.
		tc.MaxTimeToConsistency = min(tc.MaxTimeToConsistency, 2*time.Second)
		// Its steps go to the spec's log, shown only if this spec fails.
		broken := &harness.Runner{Env: runner.Env, Manifests: scenarios.Manifests, Timeouts: tc, Dialect: runner.Dialect, Supports: runner.Supports,
			Cleanup: opts.Cleanup, Log: GinkgoWriter, Tamper: disableAPIKeyAuth}
		res := broken.Run(ctx, s)
		Expect(res.Passed).To(BeFalse(), "MissingKey passed although every policy was rewritten without API key auth")
		// The first step sends a valid key and expects it removed; with the
		// filter off it reaches the backend, which echoes it back.
		Expect(res.Failure).To(ContainSubstring("step 1/"))
		Expect(res.Failure).To(ContainSubstring("expected: 200 from the backend, which received: no header api-key"))
		Expect(res.Failure).To(ContainSubstring("received header api-key="))
		Expect(res.Failure).To(ContainSubstring("<key:client1>"), "the echoed key must appear redacted")
	})
})

// selfTestScenario is MissingKey under a name of its own, which the
// self-test runs against a tampered implementation.
func selfTestScenario() scenario.Scenario {
	s, ok := scenarios.Catalog.Get("MissingKey")
	if !ok {
		panic("the self-test needs scenario MissingKey")
	}
	s.ShortName += "WithAPIKeyAuthSwitchedOff"
	return s
}

func createLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.Create(path)
}

// disableAPIKeyAuth rewrites every rendered policy so that it no longer
// configures API key auth: a data plane that lets everything through.
func disableAPIKeyAuth(obj k8s.Object) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok || u.GroupVersionKind() != runner.Dialect.PolicyKind() {
		return
	}
	unstructured.RemoveNestedField(u.Object, "spec", "apiKeyAuth")
}

// must fails the current node with err's message as is: these errors are
// written for users (what is wrong, what to do), not for Gomega's dump.
func must(err error) {
	GinkgoHelper()
	if err != nil {
		Fail(err.Error())
	}
}

// specLabels are a scenario's features and its level, for --label-filter.
func specLabels(s scenario.Scenario) []string {
	level := "core"
	if features.APIKeyAuthProfile.IsExtended(s.Features) {
		level = "extended"
	}
	out := []string{level}
	for _, f := range s.Features {
		out = append(out, string(f))
	}
	return out
}

func progressf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
