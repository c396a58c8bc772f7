// Command kind-plan prints what the suites' kind target would do with the
// same flags (`make e2e-plan` passes it those of `make e2e`): the kind,
// container engine and helm command lines, the images it pulls and loads,
// what it installs, and whether this machine has the tools for it. It
// creates nothing and exits 0 unless the flags are invalid, so the kind
// path can be checked where no container engine runs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyconform/keyconform/suites/run"
	"github.com/keyconform/keyconform/suites/targets"
)

func main() {
	flags := run.RegisterFlags(flag.CommandLine)
	flag.Parse()
	o, err := flags.Options()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if o.Target.Target != targets.Kind {
		fmt.Fprintf(os.Stderr, "--target=%s: kind-plan prints the kind target's plan; pass --target=kind\n", o.Target.Target)
		os.Exit(2)
	}
	// The archives' folder is made by the run; its name here only shows
	// where they go.
	plan, err := targets.PlanKind(o.Target.Kind, filepath.Join(os.TempDir(), "keyconform-kind-images-*"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	id := o.Report.Implementation
	fmt.Printf("# kind target: cluster %s, GatewayClass %s, dialect %s; the report (%s) names %s/%s %s\n", plan.Cluster,
		o.Target.GatewayClass, orAny(o.Target.Implementation), o.ReportOutput, id.Organization, id.Project, id.Version)
	for _, line := range plan.Lines() {
		fmt.Println(line)
	}
	if err := targets.CheckKindTools(context.Background(), plan, o.Target.Kind.Install); err != nil {
		fmt.Println("# this machine could not run it:")
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Println("#   " + line)
		}
	}
}

// orAny reads an empty dialect as the run does: the GatewayClass's
// controller decides.
func orAny(dialect string) string {
	if dialect == "" {
		return "from the GatewayClass's controllerName"
	}
	return dialect
}
