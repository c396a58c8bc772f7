package translate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/internal/golden"
)

// goldenCase is one folder of testdata: input.yaml (manifests) and
// output.yaml (what Translate makes of them).
type goldenCase struct {
	name string
	// noAddress gives the Gateways no data plane address, as before the
	// data plane reports one.
	noAddress bool
}

// goldenCases lists every folder under testdata; a folder missing here (or
// a case without a folder) fails TestGoldenCasesListed.
func goldenCases() []goldenCase {
	return []goldenCase{
		// The seed document's scenarios, with its key.
		{name: "seed-secretref"},
		{name: "seed-label-selector"},
		{name: "seed-custom-header"},
		{name: "seed-multiple-sources"},
		{name: "seed-client-id-header"},
		{name: "seed-forward-credential"},
		{name: "seed-disable-route"},
		{name: "seed-disable-verbatim"},
		// Attachment levels and precedence.
		{name: "route-level-override"},
		{name: "rule-level-override"},
		{name: "listener-section"},
		{name: "same-level-oldest-wins"},
		{name: "policy-weight"},
		{name: "target-selectors"},
		// Credentials.
		{name: "multiple-keys-per-secret"},
		{name: "identical-duplicates"},
		{name: "cross-namespace-secret-granted"},
		// Invalid policies fail closed.
		{name: "invalid-missing-secret"},
		{name: "invalid-route-policy"},
		{name: "invalid-selector-no-match"},
		{name: "invalid-no-usable-key"},
		{name: "invalid-key-shared-by-two-clients"},
		{name: "invalid-cross-namespace-no-grant"},
		{name: "invalid-target-not-found"},
		{name: "invalid-listener-policy"},
		{name: "invalid-gateway-policy-over-route"},
		// Routing.
		{name: "routing-two-hostnames"},
		{name: "routing-precedence"},
		{name: "routing-missing-backend"},
		{name: "routing-attachment", noAddress: true},
		{name: "routing-endpoints"},
		// HTTPS listeners.
		{name: "https-same-namespace-secret"},
		{name: "https-sni-filter-chains"},
		{name: "https-invalid-certificate-refs"},
		{name: "https-listener-conflicts"},
		{name: "https-cross-namespace-secret-granted"},
		// HTTPRoute filters.
		{name: "filters-request-header-modifier"},
		{name: "filters-redirect-host-status"},
		{name: "filters-redirect-scheme-port"},
		{name: "filters-redirect-path"},
		{name: "filters-with-api-key-policy"},
	}
}

func TestGoldenCasesListed(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var dirs, listed []string
	for _, e := range entries {
		// testdata/fuzz is the fuzz corpus (FuzzPolicyFailsClosed).
		if e.IsDir() && e.Name() != "fuzz" {
			dirs = append(dirs, e.Name())
		}
	}
	for _, c := range goldenCases() {
		listed = append(listed, c.name)
	}
	slices.Sort(listed)
	if diff := cmp.Diff(dirs, listed); diff != "" {
		t.Errorf("testdata folders (-) and goldenCases (+) differ:\n%s", diff)
	}
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			in := loadCase(t, c)
			got, err := renderOutput(Translate(in))
			if err != nil {
				t.Fatal(err)
			}
			// The xDS carries the keys; a failure message must not.
			golden.Compare(t, filepath.Join("testdata", c.name, "output.yaml"), got, func(diff string) string {
				return redactKeys(diff, inputKeys(in))
			})
		})
	}
}

// loadCase reads a case's inputs and gives each Gateway the address a data
// plane would report, unless the case says otherwise.
func loadCase(t testing.TB, c goldenCase) Inputs {
	t.Helper()
	in, err := loadInputs(filepath.Join("testdata", c.name, "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.noAddress {
		in.GatewayAddresses = map[types.NamespacedName][]gwv1.GatewayStatusAddress{}
		for _, gw := range in.Gateways {
			in.GatewayAddresses[keyOf(gw.Namespace, gw.Name)] = []gwv1.GatewayStatusAddress{
				{Type: new(gwv1.IPAddressType), Value: "127.0.0.1"},
			}
		}
	}
	return in
}

// inputKeys is every non-empty Secret value of the inputs: each is an API
// key as far as leak checks go.
func inputKeys(in Inputs) []string {
	var keys []string
	for _, s := range in.Secrets {
		for _, v := range s.Data {
			if len(v) > 0 {
				keys = append(keys, string(v))
			}
		}
		for _, v := range s.StringData {
			if v != "" {
				keys = append(keys, v)
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func redactKeys(s string, keys []string) string {
	for _, k := range keys {
		s = strings.ReplaceAll(s, k, "<redacted>")
	}
	return s
}
