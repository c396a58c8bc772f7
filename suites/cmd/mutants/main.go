//go:build mutants

// Command mutants measures the suites' power to catch bugs: it runs the
// suites on the local environment once with the reference implementation
// as it is (the control: every scenario must pass), then once per mutant
// of internal/mutant, and prints a matrix: each mutant, killed (some
// scenario failed) or survived, and the scenarios that killed it. It exits
// 1 when a mutant survives or a run does not report. `make mutants` builds
// the suite with the mutants tag and runs this.
//
//	mutants -suite bin/mutants/suites.test -artifacts _artifacts/mutants [-only name,...]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/keyconform/keyconform/internal/mutant"
	"github.com/keyconform/keyconform/suites/baseline"
)

// outcome is what one run of the suites said.
type outcome struct {
	name    mutant.Name
	bug     string
	killers []string // scenarios that failed
	err     error    // the run reported nothing
	took    time.Duration
}

func main() {
	suite := flag.String("suite", "", "the suites compiled with -tags mutants (ginkgo build --tags=mutants ./suites)")
	artifacts := flag.String("artifacts", "_artifacts/mutants", "where each run's reports and output go, one folder per mutant")
	procs := flag.Int("procs", 4, "parallel Ginkgo processes per run")
	only := flag.String("only", "", "comma-separated mutant names to run instead of all")
	ginkgo := flag.String("ginkgo", "go tool ginkgo", "the Ginkgo CLI")
	flag.Parse()
	if *suite == "" {
		fail("-suite is required: build it with `go tool ginkgo build --tags=mutants ./suites`")
	}
	selected, err := selectMutants(*only)
	if err != nil {
		fail(err.Error())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := runner{suite: *suite, artifacts: *artifacts, procs: *procs, ginkgo: strings.Fields(*ginkgo)}

	start := time.Now()
	control := r.run(ctx, "", "none: the reference implementation as built")
	if control.err != nil || len(control.killers) > 0 {
		fail(fmt.Sprintf("the control run must pass every scenario before mutants mean anything: %v, failed: %v (see %s)",
			control.err, control.killers, r.dir("")))
	}
	fmt.Printf("[mutants] control run passed in %s\n", control.took.Round(time.Second))
	var results []outcome
	for _, m := range selected {
		o := r.run(ctx, m.Name, m.Bug)
		fmt.Printf("[mutants] %-40s %s in %s\n", m.Name, o.verdict(), o.took.Round(time.Second))
		results = append(results, o)
		if ctx.Err() != nil {
			break
		}
	}
	printMatrix(results, time.Since(start))
	for _, o := range results {
		if o.err != nil || len(o.killers) == 0 {
			os.Exit(1)
		}
	}
}

func selectMutants(only string) ([]mutant.Mutant, error) {
	if only == "" {
		return mutant.Catalog, nil
	}
	var out []mutant.Mutant
	for name := range strings.SplitSeq(only, ",") {
		i := slices.IndexFunc(mutant.Catalog, func(m mutant.Mutant) bool { return string(m.Name) == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown mutant %q (see internal/mutant)", name)
		}
		out = append(out, mutant.Catalog[i])
	}
	return out, nil
}

type runner struct {
	suite, artifacts string
	procs            int
	ginkgo           []string
}

func (r runner) dir(name mutant.Name) string {
	if name == "" {
		return filepath.Join(r.artifacts, "control")
	}
	return filepath.Join(r.artifacts, string(name))
}

// run runs the suites with mutant name switched on ("" for none) and reads
// which scenarios failed from the results the suite writes.
func (r runner) run(ctx context.Context, name mutant.Name, bug string) (o outcome) {
	o = outcome{name: name, bug: bug}
	start := time.Now()
	defer func() { o.took = time.Since(start) }()
	dir, err := filepath.Abs(r.dir(name))
	if err == nil {
		_ = os.RemoveAll(dir)
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		o.err = err
		return o
	}
	log, err := os.Create(filepath.Join(dir, "output.log"))
	if err != nil {
		o.err = err
		return o
	}
	defer log.Close()
	// The sim turns consistent in well under a second (the suite's
	// consistency report); a killed mutant's failing expectations need not
	// wait the default 30 s each. The control run proves 5 s is enough.
	args := append(slices.Clone(r.ginkgo[1:]), "--no-color", "-p", fmt.Sprintf("--procs=%d", r.procs), "--timeout=10m",
		r.suite, "--", "--target=sim", "--poll-interval=20ms", "--max-time-to-consistency=5s")
	cmd := exec.CommandContext(ctx, r.ginkgo[0], args...)
	cmd.Env = append(os.Environ(), "ARTIFACTS="+dir, mutant.Env+"="+string(name))
	cmd.Stdout, cmd.Stderr = log, log
	runErr := cmd.Run() // a killed mutant fails the run: the results say how
	results, err := baseline.LoadResults(filepath.Join(dir, "results-sim.json"))
	if err != nil {
		o.err = errors.Join(fmt.Errorf("no results (see %s)", log.Name()), runErr)
		return o
	}
	for _, res := range results {
		if res.Outcome == baseline.Failed {
			o.killers = append(o.killers, res.Scenario)
		}
	}
	return o
}

func (o outcome) verdict() string {
	switch {
	case o.err != nil:
		return "ERROR: " + o.err.Error()
	case len(o.killers) == 0:
		return "SURVIVED"
	}
	return fmt.Sprintf("killed by %d scenario(s)", len(o.killers))
}

func printMatrix(results []outcome, took time.Duration) {
	killed := 0
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "MUTANT\tRESULT\tKILLED BY\tBUG")
	for _, o := range results {
		result, by := "killed", strings.Join(o.killers, " ")
		switch {
		case o.err != nil:
			result, by = "error", o.err.Error()
		case len(o.killers) == 0:
			result = "SURVIVED"
		default:
			killed++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", o.name, result, by, o.bug)
	}
	_ = w.Flush()
	fmt.Printf("[mutants] %d of %d killed; %s in all\n", killed, len(results), took.Round(time.Second))
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "mutants:", msg)
	os.Exit(2)
}
