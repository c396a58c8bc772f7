package dataplane

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"sigs.k8s.io/yaml"

	// The types Anys hold in Envoy Gateway's golden route configurations
	// that the package does not link already (perroutetypes.go links the
	// per-route filter configs).
	_ "github.com/cncf/xds/go/xds/type/matcher/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/stateful_session/cookie/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/stateful_session/header/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/common_inputs/network/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/input_matchers/ip/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/input_matchers/metadata/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/priority/previous_priorities/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/keyconform/keyconform/internal/egmodule"
)

// Every route configuration the sim accepts while the package's tests run
// (compileRouteTable, through xDS or directly) is walked here, field by
// field, against routeFieldRules, independently of the check
// compileRouteTable makes: a set field that is neither implemented nor
// neutral in an accepted configuration stops the test binary. So no test
// can make the sim accept, and silently ignore, a route field.
var acceptedRouteConfigs atomic.Int64

func init() {
	routeConfigAccepted = func(rc *routev3.RouteConfiguration) {
		acceptedRouteConfigs.Add(1)
		if bad := unacceptedRouteFields(rc); len(bad) > 0 {
			panic(fmt.Sprintf("route configuration %q was accepted with fields that are neither implemented nor neutral: %s", rc.GetName(), strings.Join(bad, ", ")))
		}
	}
}

// unacceptedRouteFields walks every set field of m, descending into every
// message routeFieldRules marks walk, and lists the fields that are not
// implemented, walk or neutral there.
func unacceptedRouteFields(m proto.Message) []string {
	var bad []string
	var visit func(msg protoreflect.Message, path string)
	visit = func(msg protoreflect.Message, path string) {
		rules := routeFieldRules[msg.Descriptor().FullName()]
		for i, fields := 0, msg.Descriptor().Fields(); i < fields.Len(); i++ {
			fd := fields.Get(i)
			if !msg.Has(fd) {
				continue
			}
			p := strings.TrimPrefix(path+"."+string(fd.Name()), ".")
			r, ok := rules[fd.Name()]
			switch {
			case !ok:
				bad = append(bad, p+" (not in routeFieldRules)")
			case r.kind == ruleRejected:
				bad = append(bad, p+" (rejected: "+r.note+")")
			case r.kind == ruleWalk && fd.IsList():
				l := msg.Get(fd).List()
				for j := range l.Len() {
					visit(l.Get(j).Message(), fmt.Sprintf("%s[%d]", p, j))
				}
			case r.kind == ruleWalk && fd.IsMap():
				msg.Get(fd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
					visit(v.Message(), fmt.Sprintf("%s[%q]", p, k.String()))
					return true
				})
			case r.kind == ruleWalk:
				visit(msg.Get(fd).Message(), p)
			}
		}
	}
	visit(m.ProtoReflect(), "")
	return bad
}

// unlistedRouteFields are the set fields of m that routeFieldRules has no
// entry for at all (a rejected field has one), walking into every message
// field whatever its rule: what the table must grow to cover.
func unlistedRouteFields(m proto.Message) []string {
	var out []string
	var visit func(msg protoreflect.Message, path string, under bool)
	visit = func(msg protoreflect.Message, path string, under bool) {
		rules, known := routeFieldRules[msg.Descriptor().FullName()]
		msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			p := strings.TrimPrefix(path+"."+string(fd.Name()), ".")
			r, ok := rules[fd.Name()]
			if !under && (!known || !ok) {
				out = append(out, p)
				return true
			}
			// Only the fields of messages the table walks must be listed;
			// below an implemented, neutral or rejected field the compile
			// code, or nobody, reads them.
			next := under || r.kind != ruleWalk
			if fd.Kind() != protoreflect.MessageKind || next {
				return true
			}
			switch {
			case fd.IsList():
				for j := range v.List().Len() {
					visit(v.List().Get(j).Message(), fmt.Sprintf("%s[%d]", p, j), next)
				}
			case fd.IsMap():
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					visit(mv.Message(), fmt.Sprintf("%s[%q]", p, k.String()), next)
					return true
				})
			default:
				visit(v.Message(), p, next)
			}
			return true
		})
	}
	visit(m.ProtoReflect(), "", false)
	return out
}

// goldenRouteConfigs decodes one *.routes.yaml: a list of
// RouteConfigurations in protojson's YAML form.
func goldenRouteConfigs(t *testing.T, path string) []*routev3.RouteConfiguration {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []any
	if err := yaml.Unmarshal(b, &docs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []*routev3.RouteConfiguration
	for i, d := range docs {
		j, err := yaml.Marshal(d)
		if err == nil {
			j, err = yaml.YAMLToJSON(j)
		}
		if err != nil {
			t.Fatalf("%s[%d]: %v", path, i, err)
		}
		rc := &routev3.RouteConfiguration{}
		if err := protojson.Unmarshal(j, rc); err != nil {
			t.Fatalf("%s[%d]: %v", path, i, err)
		}
		out = append(out, rc)
	}
	return out
}

// The route configurations of Envoy Gateway's plain HTTP routing and API
// key auth cases (those sim/dataplane/egcorpus_test.go must accept): the
// sim must accept every one of them.
var egRoutesMustAccept = []string{
	"api-key-auth", "headers-with-disable-request-id", "headers-with-generate-request-id",
	"headers-with-preserve-or-generate-request-id", "headers-with-preserve-request-id",
	"headers-with-underscores-action", "host-normalization", "http-route", "http-route-direct-response",
	"http-route-multiple-matches", "http-route-partial-invalid", "http-route-redirect", "http-route-regex",
	"http-route-request-headers", "http-route-response-add-headers", "http-route-response-add-remove-headers",
	"http-route-response-remove-headers", "http-route-rewrite-root-path-url-prefix",
	"http-route-rewrite-sufixx-with-slash-url-prefix", "http-route-rewrite-url-fullpath",
	"http-route-rewrite-url-host", "http-route-rewrite-url-host-no-append-x-forwarded-host",
	"http-route-rewrite-url-prefix", "http-route-rewrite-url-prefix-with-weighted-backend",
	"http-route-rewrite-url-regex", "http-route-timeout", "http-route-weighted-backend",
	"http-route-weighted-backend-with-filters", "http-route-weighted-backend-with-url-rewrite",
	"http-route-weighted-invalid-backend", "http-route-with-metadata", "httproute-redirect", "path-settings",
	"timeout",
}

// Every field Envoy Gateway sets in a route configuration is in the table,
// every configuration the sim accepts sets only implemented and neutral
// fields, and the plain HTTP routing and API key auth ones are accepted.
func TestEnvoyGatewayRouteConfigurationFields(t *testing.T) {
	const goldens = "internal/xds/translator/testdata/out/xds-ir"
	dir := filepath.Join(egmodule.Dir(t, goldens), filepath.FromSlash(goldens))
	files, err := filepath.Glob(filepath.Join(dir, "*.routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no *.routes.yaml in %s: run make tools-envoy-gateway", dir)
	}
	mustAccept := map[string]bool{}
	for _, c := range egRoutesMustAccept {
		mustAccept[c] = true
	}
	reasons := map[string]int{}
	var accepted, total int
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".routes.yaml")
		for i, rc := range goldenRouteConfigs(t, f) {
			total++
			where := fmt.Sprintf("%s[%d] %q", name, i, rc.GetName())
			if unlisted := unlistedRouteFields(rc); len(unlisted) > 0 {
				t.Errorf("%s sets fields routeFieldRules has no entry for: %s", where, strings.Join(unlisted, ", "))
			}
			_, err := compileRouteTable(rc)
			if err != nil {
				reasons[err.Error()]++
				if mustAccept[name] {
					t.Errorf("%s: the sim rejects a plain HTTP routing configuration: %v", where, err)
				}
				continue
			}
			accepted++
			if bad := unacceptedRouteFields(rc); len(bad) > 0 {
				t.Errorf("%s accepted with fields neither implemented nor neutral: %s", where, strings.Join(bad, ", "))
			}
		}
	}
	t.Logf("%d of %d Envoy Gateway route configurations accepted; the others are rejected for:", accepted, total)
	for _, r := range slices.Sorted(func(yield func(string) bool) {
		for r := range reasons {
			if !yield(r) {
				return
			}
		}
	}) {
		t.Logf("  %3d  %s", reasons[r], r)
	}
	if accepted == 0 {
		t.Fatal("no route configuration accepted")
	}
}

// Route configurations accepted in this package's tests: checked by the
// hook above as they are compiled.
func TestAcceptedRouteConfigurationsAreWalked(t *testing.T) {
	before := acceptedRouteConfigs.Load()
	if _, err := compileRouteTable(&routev3.RouteConfiguration{Name: "rc", VirtualHosts: []*routev3.VirtualHost{{Name: "vh", Domains: []string{"*"}}}}); err != nil {
		t.Fatal(err)
	}
	if acceptedRouteConfigs.Load() != before+1 {
		t.Fatal("compileRouteTable accepted a configuration without the test hook seeing it")
	}
	// And the walk finds what the table does not accept.
	rc := &routev3.RouteConfiguration{Name: "rc", Vhds: &routev3.Vhds{}}
	if bad := unacceptedRouteFields(rc); len(bad) != 1 || !strings.HasPrefix(bad[0], "vhds (rejected") {
		t.Fatalf("walk of a configuration with vhds: %v", bad)
	}
}
