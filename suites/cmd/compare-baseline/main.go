// Command compare-baseline compares the results of a suite run with an
// implementation's committed baseline and exits 1, naming each scenario,
// on any difference: a new failure or a new pass.
//
//	compare-baseline -baseline suites/baselines/envoy-gateway-sim.yaml -results _artifacts/results-sim-envoy-gateway.json
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/keyconform/keyconform/suites/baseline"
)

func main() {
	basePath := flag.String("baseline", "", "the committed baseline (YAML)")
	resultsPath := flag.String("results", "", "the run's results (JSON, written by the suite under $ARTIFACTS)")
	flag.Parse()
	if *basePath == "" || *resultsPath == "" {
		fmt.Fprintln(os.Stderr, "compare-baseline: -baseline and -results are required")
		os.Exit(2)
	}
	b, err := baseline.Load(*basePath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare-baseline:", err)
		os.Exit(2)
	}
	results, err := baseline.LoadResults(*resultsPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare-baseline:", err)
		os.Exit(2)
	}
	diffs := baseline.Compare(b, results)
	if len(diffs) == 0 {
		fmt.Printf("[baseline] %s on %s matches %s: %d scenarios as expected\n", b.Implementation, b.Target, *basePath, len(results))
		return
	}
	fmt.Printf("[baseline] %s on %s differs from %s in %d scenario(s):\n", b.Implementation, b.Target, *basePath, len(diffs))
	for _, d := range diffs {
		fmt.Println("  " + d)
	}
	fmt.Println("[baseline] a new failure is a regression (or a suite change); a new pass means the baseline should be updated")
	os.Exit(1)
}
