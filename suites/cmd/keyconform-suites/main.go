// Command keyconform-suites is the API key auth conformance suite as one
// program: every scenario and manifest built in, the same flags as the
// test package, runnable from anywhere, e.g. in an implementation's CI:
//
//	go run github.com/keyconform/keyconform/suites/cmd/keyconform-suites@<version> \
//	  --target=cluster --context=<ctx> --gateway-class=<class> \
//	  --organization=... --project=... --url=... --version=... --contact=...
//
// --list prints the scenarios and features and exits. Specs run one after
// the other (parallel processes need the ginkgo CLI on ./suites).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/keyconform/keyconform/suites/conformance"
	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
	"github.com/keyconform/keyconform/suites/scenarios"
)

func main() {
	list := flag.Bool("list", false, "print the scenarios (with their features) and the features of the profile, then exit")
	flag.Parse()
	if *list {
		printList(os.Stdout)
		return
	}
	var t failures
	if !conformance.Run(&t) || t.failed {
		os.Exit(1)
	}
}

// failures is what Ginkgo reports a failure to outside `go test`.
type failures struct{ failed bool }

func (f *failures) Fail() { f.failed = true }

func printList(w *os.File) {
	p := features.APIKeyAuthProfile
	fmt.Fprintf(w, "scenarios (%d):\n", len(scenarios.Catalog.All()))
	for _, s := range scenarios.Catalog.All() {
		fmt.Fprintf(w, "  %-36s %-8s %s\n", s.ShortName, level(p, s), joinFeatures(s.Features))
	}
	fmt.Fprintf(w, "features of profile %s:\n", p.Name)
	for _, f := range p.All() {
		l := "extended"
		if p.Core.Has(f) {
			l = "core"
		}
		fmt.Fprintf(w, "  %-36s %s\n", f, l)
	}
}

func level(p features.Profile, s scenario.Scenario) string {
	if p.IsExtended(s.Features) {
		return "extended"
	}
	return "core"
}

func joinFeatures(fs []features.Name) string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return strings.Join(out, ",")
}
