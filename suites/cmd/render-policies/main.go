// Command render-policies prints the policies (and ReferenceGrants) of a
// scenario as a dialect renders them: what the suites apply for that
// implementation, with placeholder namespaces and keys.
//
//	go run ./suites/cmd/render-policies -implementation envoy-gateway -scenario ValidKey
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/suites/dialect"
	"github.com/keyconform/keyconform/suites/scenario"
	"github.com/keyconform/keyconform/suites/scenarios"
)

func main() {
	impl := flag.String("implementation", "kgateway", "the dialect: "+strings.Join(dialect.Names(), ", "))
	name := flag.String("scenario", "", "the scenario's short name")
	flag.Parse()
	if err := run(*impl, *name); err != nil {
		fmt.Fprintln(os.Stderr, "render-policies:", err)
		os.Exit(1)
	}
}

func run(impl, name string) error {
	d, err := dialect.ByName(impl)
	if err != nil {
		return err
	}
	s, ok := scenarios.Catalog.Get(name)
	if !ok {
		return fmt.Errorf("no scenario %q (go test ./suites/scenarios -run TestSpec lists them in docs/spec.md)", name)
	}
	objs, err := scenario.PolicyManifests(s, scenarios.Manifests)
	if err != nil {
		return err
	}
	for i, o := range objs {
		out, err := dialect.RenderObject(d, o)
		if reason, ok := dialect.Unsupported(err); ok {
			fmt.Printf("# %s/%s: not expressible in the %s dialect: %s\n", o.GetNamespace(), o.GetName(), d.Name(), reason)
			continue
		}
		if err != nil {
			return err
		}
		text, err := yaml.Marshal(out)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Println("---")
		}
		fmt.Print(string(text))
	}
	return nil
}
