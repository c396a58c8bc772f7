package dataplane_test

// The Envoy Gateway translator corpus: every golden output of Envoy Gateway
// v1.9.1's xDS translator (internal/xds/translator/testdata/out/xds-ir in
// its Go module) is served to a fresh sim through a real go-control-plane
// ADS server, and what the sim ACKs and NACKs is recorded per resource
// type. Cases that are plain HTTP routing and API key auth must be accepted
// whole; for the others the test only reports. The files are read from the
// module cache, never copied into this repository.
//
// Run with EG_CORPUS_REPORT=<path> to get the Markdown report (a relative
// path is relative to this package's directory):
//
//	EG_CORPUS_REPORT=/tmp/eg-corpus.md go test -run TestEnvoyGatewayTranslatorCorpus -v ./sim/dataplane/

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/internal/egmodule"
	"github.com/keyconform/keyconform/internal/xdstest"
	"github.com/keyconform/keyconform/sim/dataplane"
	"github.com/keyconform/keyconform/sim/xdsclient"

	// Every type an Any holds in the corpus, so that protojson can decode
	// it and the sim sees what Envoy would be sent. A type that is not
	// linked is reported as "type X not linked": one the corpus gains
	// later, and envoy.extensions.access_loggers.open_telemetry.v3's, whose
	// package needs go.opentelemetry.io/proto/otlp, a module this one does
	// not require.
	_ "github.com/cncf/xds/go/xds/type/matcher/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/grpc/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dns/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dynamic_forward_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/brotli/compressor/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/zstd/compressor/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/admission_control/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/bandwidth_limit/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/basic_auth/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/buffer/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/credential_injector/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/csrf/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/custom_response/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/dynamic_modules/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/geoip/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_stats/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_web/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/oauth2/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/stateful_session/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/upstream_codec/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/proxy_protocol/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/connection_limit/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/sni_dynamic_forward_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/udp_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/formatter/req_without_query/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/geoip_providers/maxmind/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/health_check/event_sinks/file/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/custom_response/local_response_policy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/custom_response/redirect_policy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/early_header_mutation/header_mutation/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/header_formatters/preserve_case/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/injected_credentials/generic/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/original_ip_detection/custom_header/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/original_ip_detection/xff/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/stateful_session/cookie/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/http/stateful_session/header/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/client_side_weighted_round_robin/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/cluster_provided/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/least_request/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/maglev/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/override_host/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/random/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/round_robin/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/wrr_locality/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/common_inputs/network/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/input_matchers/ip/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/matching/input_matchers/metadata/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/request_id/uuid/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/priority/previous_priorities/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/tracers/opentelemetry/resource_detectors/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/tracers/opentelemetry/samplers/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/proxy_protocol/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/quic/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/raw_buffer/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

const (
	// corpusModule is the Envoy Gateway module whose translator goldens
	// are the corpus; corpusOut and corpusIn are its outputs (the xDS
	// served) and inputs (the IR the must-accept rule reads).
	corpusModule = egmodule.Path + "@" + egmodule.Version
	corpusOut    = "internal/xds/translator/testdata/out/xds-ir"
	corpusIn     = "internal/xds/translator/testdata/in/xds-ir"

	// corpusMinAccepted is how many cases the sim accepted whole when this
	// number was last raised: fewer fails the test, as a regression. Raise
	// it by hand when the sim accepts more (the test logs the new count).
	corpusMinAccepted = 64

	// corpusAnswerTimeout bounds the wait for the sim's answer to one
	// type of one case.
	corpusAnswerTimeout = 10 * time.Second
)

// corpusMustAccept are the cases that are plain HTTP routing and API key
// auth: the sim must ACK every resource of every type in them. The list is
// what the rule below (corpusPlainRule) selects from the cases' IR inputs,
// internal/xds/translator/testdata/in/xds-ir/<case>.yaml; the test checks
// that the two agree, so change both together.
//
// The rule: a case is plain HTTP routing and API key auth when its IR has
// HTTP listeners only (no tcp, udp, TLS, access log, tracing, metrics,
// ready listener, patch policies or shared backend clusters) and every
// field it sets is one of
//
//   - listener: name, address, port, externalPort, hostnames, metadata;
//     what decides which route a request reaches (path.mergeSlashes,
//     path.escapedSlashesAction, host.stripTrailingHostDot,
//     headers.withUnderscoresAction); request ID handling
//     (headers.requestID: the x-request-id header); HTTP timeouts
//     (timeout.http.*);
//   - route: name, hostname, metadata, isHTTP2 false; matches (pathMatch,
//     headerMatches, queryParamMatches, cookieMatches); backends
//     (destination: name, metadata, settings with name, weight, metadata,
//     protocol HTTP, addressType IP, IP:port endpoints (draining or not),
//     invalid backends, and per-backend request header additions and URL
//     rewrites); redirect; directResponse; addRequestHeaders,
//     addResponseHeaders, removeRequestHeaders, removeResponseHeaders;
//     urlRewrite (path and host); timeouts (timeout,
//     traffic.timeout.http.*, traffic.timeout.tcp.connectTimeout);
//     security.apiKeyAuth.
//
// Not in it, so reported only: basic auth and every other auth (another
// HTTP filter than api_key_auth), mirrors, retries, session persistence,
// stat names, listener-level header mutations (ClientTrafficPolicy's early
// and late headers), HTTP/1 and HTTP/2 protocol options, client IP
// detection, DNS or UDS backends, upstream TLS, zone-aware routing and
// every traffic feature other than timeouts. "empty" (no resources at all)
// is in the list vacuously.
var corpusMustAccept = []string{
	"api-key-auth",
	"empty",
	"headers-with-disable-request-id",
	"headers-with-generate-request-id",
	"headers-with-preserve-or-generate-request-id",
	"headers-with-preserve-request-id",
	"headers-with-underscores-action",
	"host-normalization",
	"http-route",
	"http-route-direct-response",
	"http-route-multiple-matches",
	"http-route-partial-invalid",
	"http-route-redirect",
	"http-route-regex",
	"http-route-request-headers",
	"http-route-response-add-headers",
	"http-route-response-add-remove-headers",
	"http-route-response-remove-headers",
	"http-route-rewrite-root-path-url-prefix",
	"http-route-rewrite-sufixx-with-slash-url-prefix",
	"http-route-rewrite-url-fullpath",
	"http-route-rewrite-url-host",
	"http-route-rewrite-url-host-no-append-x-forwarded-host",
	"http-route-rewrite-url-prefix",
	"http-route-rewrite-url-prefix-with-weighted-backend",
	"http-route-rewrite-url-regex",
	"http-route-timeout",
	"http-route-weighted-backend",
	"http-route-weighted-backend-with-filters",
	"http-route-weighted-backend-with-url-rewrite",
	"http-route-weighted-invalid-backend",
	"http-route-with-metadata",
	"httproute-redirect",
	"path-settings",
	"timeout",
}

// corpusPlainRule is the rule above, over the IR's leaf fields written as
// dotted paths with [] for list elements: a pattern ending in ".*" allows
// the whole subtree, and a value, when given, is the only one allowed.
var corpusPlainRule = []struct {
	pattern string
	value   any
}{
	{pattern: "http[].name"},
	{pattern: "http[].address"},
	{pattern: "http[].port"},
	{pattern: "http[].externalPort"},
	{pattern: "http[].hostnames[]"},
	{pattern: "http[].metadata.*"},
	{pattern: "http[].path.mergeSlashes"},
	{pattern: "http[].path.escapedSlashesAction"},
	{pattern: "http[].host.stripTrailingHostDot"},
	{pattern: "http[].headers.withUnderscoresAction"},
	{pattern: "http[].headers.requestID"},
	{pattern: "http[].timeout.http.*"},

	{pattern: "http[].routes[].name"},
	{pattern: "http[].routes[].hostname"},
	{pattern: "http[].routes[].metadata.*"},
	{pattern: "http[].routes[].isHTTP2", value: false},
	{pattern: "http[].routes[].pathMatch.*"},
	{pattern: "http[].routes[].headerMatches[].*"},
	{pattern: "http[].routes[].queryParamMatches[].*"},
	{pattern: "http[].routes[].cookieMatches[].*"},
	{pattern: "http[].routes[].destination.name"},
	{pattern: "http[].routes[].destination.metadata.*"},
	{pattern: "http[].routes[].destination.settings[].name"},
	{pattern: "http[].routes[].destination.settings[].weight"},
	{pattern: "http[].routes[].destination.settings[].metadata.*"},
	{pattern: "http[].routes[].destination.settings[].protocol", value: "HTTP"},
	{pattern: "http[].routes[].destination.settings[].addressType", value: "IP"},
	{pattern: "http[].routes[].destination.settings[].endpoints[].host"},
	{pattern: "http[].routes[].destination.settings[].endpoints[].port"},
	{pattern: "http[].routes[].destination.settings[].endpoints[].draining"},
	{pattern: "http[].routes[].destination.settings[].invalid"},
	{pattern: "http[].routes[].destination.settings[].filters.addRequestHeaders[].*"},
	{pattern: "http[].routes[].destination.settings[].filters.urlRewrite.*"},
	{pattern: "http[].routes[].redirect.*"},
	{pattern: "http[].routes[].directResponse.*"},
	{pattern: "http[].routes[].addRequestHeaders[].*"},
	{pattern: "http[].routes[].addResponseHeaders[].*"},
	{pattern: "http[].routes[].removeRequestHeaders[]"},
	{pattern: "http[].routes[].removeResponseHeaders[]"},
	{pattern: "http[].routes[].urlRewrite.*"},
	{pattern: "http[].routes[].timeout"},
	{pattern: "http[].routes[].traffic.timeout.http.*"},
	{pattern: "http[].routes[].traffic.timeout.tcp.connectTimeout"},
	{pattern: "http[].routes[].security.apiKeyAuth.*"},
}

// corpusPlainViolations returns the IR fields of one case input that the
// rule does not allow (empty: the case is plain HTTP routing and API key
// auth).
func corpusPlainViolations(ir []byte) ([]string, error) {
	var doc any
	if err := yaml.Unmarshal(ir, &doc); err != nil {
		return nil, err
	}
	var bad []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, v[k])
			}
		case []any:
			for _, e := range v {
				walk(path+"[]", e)
			}
		case nil: // sets nothing
		default:
			if !corpusPlainAllows(path, v) {
				bad = append(bad, fmt.Sprintf("%s=%v", path, v))
			}
		}
	}
	walk("", doc)
	return slices.Compact(slices.Sorted(slices.Values(bad))), nil
}

func corpusPlainAllows(path string, v any) bool {
	for _, r := range corpusPlainRule {
		match := path == r.pattern
		if prefix, ok := strings.CutSuffix(r.pattern, "*"); ok {
			match = strings.HasPrefix(path, prefix)
		}
		if match {
			return r.value == nil || r.value == v
		}
	}
	return false
}

// corpusType is one of the four resource types a case holds.
type corpusType struct {
	name    string // as in the case's file name, <case>.<name>.yaml
	typeURL string
	newMsg  func() proto.Message
}

var corpusTypes = []corpusType{
	{"listeners", resource.ListenerType, func() proto.Message { return &listenerv3.Listener{} }},
	{"routes", resource.RouteType, func() proto.Message { return &routev3.RouteConfiguration{} }},
	{"clusters", resource.ClusterType, func() proto.Message { return &clusterv3.Cluster{} }},
	{"endpoints", resource.EndpointType, func() proto.Message { return &endpointv3.ClusterLoadAssignment{} }},
}

const (
	corpusListeners = iota
	corpusRoutes
	corpusClusters
	corpusEndpoints
)

// corpusVerdict is what became of one type of one case.
type corpusVerdict int

const (
	verdictNone       corpusVerdict = iota // the case has none of this type
	verdictACK                             // the sim accepted them all
	verdictNACK                            // the sim rejected the update
	verdictNotDecoded                      // the test could not decode them
	verdictNotServed                       // the sim did not subscribe to them all, so the server sent none
	verdictNoAnswer                        // no ACK or NACK in time
)

func (v corpusVerdict) String() string {
	return [...]string{"—", "ACK", "NACK", "not decoded", "not served", "no answer"}[v]
}

type corpusTypeResult struct {
	verdict corpusVerdict
	detail  string // the NACK's error detail, or why not decoded, served or answered
	reason  string // its first unimplemented field, for the report
}

type corpusResult struct {
	name    string
	must    bool
	types   [4]corpusTypeResult
	elapsed time.Duration
}

func (r *corpusResult) accepted() bool {
	for _, t := range r.types {
		if t.verdict != verdictNone && t.verdict != verdictACK {
			return false
		}
	}
	return true
}

// firstReason is the reason of the first type, in LDS, RDS, CDS, EDS order,
// that was not accepted.
func (r *corpusResult) firstReason() (string, string) {
	for i, t := range r.types {
		if t.verdict != verdictNone && t.verdict != verdictACK {
			return corpusTypes[i].name, t.reason
		}
	}
	return "", ""
}

func TestEnvoyGatewayTranslatorCorpus(t *testing.T) {
	mod := egmodule.Dir(t, corpusOut)
	outDir, inDir := filepath.Join(mod, corpusOut), filepath.Join(mod, corpusIn)
	cases := corpusCases(t, outDir)
	must := map[string]bool{}
	for _, c := range corpusMustAccept {
		must[c] = true
		if !slices.Contains(cases, c) {
			t.Errorf("must-accept case %q is not in the corpus (%s)", c, outDir)
		}
	}
	corpusCheckRule(t, inDir, cases, must)

	start := time.Now()
	var mu sync.Mutex
	var results []*corpusResult
	t.Run("case", func(t *testing.T) {
		for _, name := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				r := corpusRun(t, outDir, name)
				r.must = must[name]
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if !r.must {
					return
				}
				for i, tr := range r.types {
					if tr.verdict != verdictNone && tr.verdict != verdictACK {
						t.Errorf("must-accept case %s: %s %s: %s", name, corpusTypes[i].name, tr.verdict, tr.detail)
					}
				}
			})
		}
	})
	elapsed := time.Since(start)
	slices.SortFunc(results, func(a, b *corpusResult) int { return strings.Compare(a.name, b.name) })

	accepted, mustAccepted := 0, 0
	for _, r := range results {
		if r.accepted() {
			accepted++
			if r.must {
				mustAccepted++
			}
		}
	}
	summary := fmt.Sprintf("%d of %d EG translator cases fully accepted", accepted, len(results))
	t.Logf("%s (must-accept: %d of %d) in %s", summary, mustAccepted, len(corpusMustAccept), elapsed.Round(time.Millisecond))
	reasons := corpusReasonCounts(results)
	t.Logf("top first unimplemented fields (all %d, case by case, with EG_CORPUS_REPORT=<file>):", len(reasons))
	for _, line := range reasons[:min(len(reasons), 15)] {
		t.Logf("  %4d  %s", line.count, line.reason)
	}
	if path := os.Getenv("EG_CORPUS_REPORT"); path != "" {
		if err := os.WriteFile(path, corpusReport(results, summary, mustAccepted), 0o644); err != nil {
			t.Errorf("EG_CORPUS_REPORT: %v", err)
		} else {
			t.Logf("report written to %s", path)
		}
	}
	if len(results) != len(cases) {
		return // a case failed to run; its subtest says why
	}
	switch {
	case accepted < corpusMinAccepted:
		t.Errorf("%s, fewer than corpusMinAccepted = %d: the sim now rejects Envoy Gateway output it used to accept (run with EG_CORPUS_REPORT=<file> to see which cases and why); fix that, or, if the sim was wrong to accept them, lower corpusMinAccepted in sim/dataplane/egcorpus_test.go", summary, corpusMinAccepted)
	case accepted > corpusMinAccepted:
		t.Logf("the sim accepts more cases than corpusMinAccepted = %d: raise it to %d in sim/dataplane/egcorpus_test.go, so that losing them fails", corpusMinAccepted, accepted)
	}
}

// corpusCases are the names of the cases in dir: every <case> with a
// <case>.<type>.yaml for one of the four types.
func corpusCases(t *testing.T, dir string) []string {
	t.Helper()
	set := map[string]bool{}
	for _, ct := range corpusTypes {
		files, err := filepath.Glob(filepath.Join(dir, "*."+ct.name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			set[strings.TrimSuffix(filepath.Base(f), "."+ct.name+".yaml")] = true
		}
	}
	if len(set) == 0 {
		t.Fatalf("no cases in %s", dir)
	}
	return slices.Sorted(maps.Keys(set))
}

// corpusCheckRule checks that corpusMustAccept is what corpusPlainRule
// selects from the cases' IR inputs.
func corpusCheckRule(t *testing.T, inDir string, cases []string, must map[string]bool) {
	t.Helper()
	for _, c := range cases {
		ir, err := os.ReadFile(filepath.Join(inDir, c+".yaml"))
		if err != nil {
			if must[c] {
				t.Errorf("must-accept case %s: no IR input: %v", c, err)
			}
			continue
		}
		bad, err := corpusPlainViolations(ir)
		if err != nil {
			t.Errorf("case %s: IR input: %v", c, err)
			continue
		}
		switch plain := len(bad) == 0; {
		case plain && !must[c]:
			t.Errorf("case %s is plain HTTP routing and API key auth by corpusPlainRule but not in corpusMustAccept: add it, or narrow the rule", c)
		case !plain && must[c]:
			t.Errorf("must-accept case %s sets IR fields outside corpusPlainRule: %s; remove it from corpusMustAccept, or widen the rule", c, strings.Join(bad, ", "))
		}
	}
}

// corpusRun serves one case to a fresh sim and records its answers.
func corpusRun(t *testing.T, dir, name string) *corpusResult {
	start := time.Now()
	r := &corpusResult{name: name}

	// Decode the case, type by type, in file order.
	var served []types.Resource
	var names [4][]string // resource names per type, in file order
	var listeners []*listenerv3.Listener
	for i, ct := range corpusTypes {
		path := filepath.Join(dir, name+"."+ct.name+".yaml")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue
		}
		msgs, err := corpusDecode(path, ct.newMsg)
		if err != nil {
			r.types[i] = corpusTypeResult{verdict: verdictNotDecoded, detail: err.Error(), reason: corpusFirstField(err.Error(), nil)}
		}
		for _, m := range msgs {
			served = append(served, m)
			names[i] = append(names[i], corpusResourceName(m))
			if l, ok := m.(*listenerv3.Listener); ok {
				listeners = append(listeners, l)
			}
		}
	}

	// Every port a listener of the case binds, and the probes' ports, are
	// bound to an ephemeral loopback port: nothing binds a fixed or
	// non-loopback address.
	overrides := map[uint32]string{}
	for _, l := range listeners {
		for _, p := range corpusListenerPorts(l) {
			overrides[p] = "127.0.0.1:0"
		}
	}
	// Probes: a listener per route configuration and an EDS cluster per
	// load assignment of the case, so that the sim subscribes to each even
	// when the case's own listener or cluster that names it is rejected;
	// RDS and EDS then get a verdict of their own. (go-control-plane's ADS
	// mode answers only a subscription to every resource of the type it
	// holds.) The probes are the translator's standard resources, which
	// the sim accepts; they do not change the LDS and CDS verdicts, which
	// the case's own resources decide.
	probePort := uint32(20000)
	nextProbePort := func() uint32 {
		for overrides[probePort] != "" {
			probePort++
		}
		overrides[probePort] = "127.0.0.1:0"
		return probePort
	}
	probes := 0
	for _, rc := range names[corpusRoutes] {
		l := xdstest.Listener(t, nextProbePort(), func(h *hcmv3.HttpConnectionManager) {
			h.GetRds().RouteConfigName = rc
		})
		l.Name = fmt.Sprintf("egcorpus-probe/rds/%d", probes)
		served = append(served, l)
		probes++
	}
	for _, cla := range names[corpusEndpoints] {
		c := xdstest.Cluster(fmt.Sprintf("egcorpus-probe/eds/%d", probes))
		c.EdsClusterConfig.ServiceName = cla
		served = append(served, c)
		probes++
	}

	has := func(i int) bool { return len(names[i]) > 0 }
	if !has(corpusListeners) && !has(corpusRoutes) && !has(corpusClusters) && !has(corpusEndpoints) {
		r.elapsed = time.Since(start)
		return r // nothing to serve
	}
	const node, version = "egcorpus", "1"
	xds := xdstest.Start(t)
	xds.Set(t, node, version, served...)
	p, err := dataplane.New(dataplane.Options{
		XDS:             xdsclient.Options{ServerAddress: xds.Addr(), NodeID: node},
		ListenOverrides: overrides,
		Logger:          slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	// Read the sim's requests until every type the case holds has its
	// verdict: the ACK of the snapshot's version, or a NACK.
	answered := map[string]corpusTypeResult{}
	subscribed := map[string][]string{} // the last names the sim asked for, RDS and EDS
	parent := map[string]string{resource.RouteType: resource.ListenerType, resource.EndpointType: resource.ClusterType}
	deadline := time.Now().Add(corpusAnswerTimeout)
	for seen := 0; ; {
		msgs := xds.Messages()
		for _, m := range msgs[seen:] {
			req, ok := m.Msg.(*discoveryv3.DiscoveryRequest)
			if !ok {
				continue
			}
			typeURL := req.GetTypeUrl()
			if _, ok := parent[typeURL]; ok {
				subscribed[typeURL] = req.GetResourceNames()
			}
			if _, got := answered[typeURL]; got || req.GetResponseNonce() == "" {
				continue
			}
			switch {
			case req.GetErrorDetail() != nil:
				answered[typeURL] = corpusTypeResult{verdict: verdictNACK, detail: req.GetErrorDetail().GetMessage()}
			case req.GetVersionInfo() == version:
				answered[typeURL] = corpusTypeResult{verdict: verdictACK}
			}
		}
		seen = len(msgs)

		complete := true
		for i, ct := range corpusTypes {
			if !has(i) || r.types[i].verdict == verdictNotDecoded {
				continue
			}
			if a, ok := answered[ct.typeURL]; ok {
				r.types[i] = a
				continue
			}
			// go-control-plane's ADS mode answers an RDS or EDS request
			// only when it names every resource of the type the snapshot
			// holds. The probes make the sim name them all; should it not
			// (once the listeners or clusters it derives the names from
			// are applied), no answer will come.
			if up, ok := parent[ct.typeURL]; ok {
				if _, upDone := answered[up]; upDone {
					var unasked []string
					for _, n := range names[i] {
						if !slices.Contains(subscribed[ct.typeURL], n) {
							unasked = append(unasked, fmt.Sprintf("%q", n))
						}
					}
					if len(unasked) > 0 {
						msg := fmt.Sprintf("the sim did not subscribe to %s, so the ADS server sends none of the case's %s", strings.Join(unasked, ", "), ct.name)
						r.types[i] = corpusTypeResult{verdict: verdictNotServed, detail: msg, reason: "the sim did not subscribe to all of them"}
						continue
					}
				}
			}
			complete = false
		}
		if complete {
			break
		}
		if time.Now().After(deadline) {
			for i, ct := range corpusTypes {
				if has(i) && r.types[i].verdict == verdictNone {
					msg := fmt.Sprintf("no ACK or NACK of %s within %s", ct.typeURL, corpusAnswerTimeout)
					r.types[i] = corpusTypeResult{verdict: verdictNoAnswer, detail: msg, reason: msg}
				}
			}
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	for port := range overrides {
		if addr, ok := p.ListenerAddr(port); ok {
			if ap, err := netip.ParseAddrPort(addr); err != nil || !ap.Addr().IsLoopback() {
				t.Errorf("listener port %d is bound to %s, not loopback", port, addr)
			}
		}
	}
	for i := range r.types {
		if r.types[i].verdict == verdictNACK {
			r.types[i].reason = corpusFirstField(r.types[i].detail, names[i])
		}
	}
	r.elapsed = time.Since(start)
	return r
}

var corpusAnyType = regexp.MustCompile(`"@type":"([^"]+)"`)

// corpusDecode reads a YAML list of resources in proto JSON. The resources
// that decode are returned even when some do not; the error says why the
// first that did not failed.
func corpusDecode(path string, newMsg func() proto.Message) ([]proto.Message, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(j, &raws); err != nil {
		return nil, err
	}
	var msgs []proto.Message
	var first error
	for i, raw := range raws {
		var err error
		for _, m := range corpusAnyType.FindAllSubmatch(raw, -1) {
			url := string(m[1])
			if _, ferr := protoregistry.GlobalTypes.FindMessageByURL(url); ferr != nil {
				err = fmt.Errorf("type %s not linked", strings.TrimPrefix(url, "type.googleapis.com/"))
				break
			}
		}
		msg := newMsg()
		if err == nil {
			err = protojson.Unmarshal(raw, msg)
		}
		if err != nil {
			if first == nil {
				first = fmt.Errorf("resource %d: %w", i, err)
			}
			continue
		}
		msgs = append(msgs, msg)
	}
	return msgs, first
}

func corpusResourceName(m proto.Message) string {
	if cla, ok := m.(*endpointv3.ClusterLoadAssignment); ok {
		return cla.GetClusterName()
	}
	return m.(interface{ GetName() string }).GetName()
}

// corpusListenerPorts are the ports of a listener's addresses.
func corpusListenerPorts(l *listenerv3.Listener) []uint32 {
	ports := []uint32{l.GetAddress().GetSocketAddress().GetPortValue()}
	for _, a := range l.GetAdditionalAddresses() {
		ports = append(ports, a.GetAddress().GetSocketAddress().GetPortValue())
	}
	return ports
}

var (
	// The sim's error context before the part that names the field:
	// resource names and positions in a route configuration.
	corpusContext = regexp.MustCompile(`^(?:"[^"]*"|resource \d+|route configuration "[^"]*"|virtual host "[^"]*"|route \d+ \("[^"]*"\)|listener "[^"]*"): `)
	corpusIndex   = regexp.MustCompile(`\[\d+\]`)
	// How the sim says what it implements instead, after the field.
	corpusInstead = regexp.MustCompile(`(?:, which implements .*| \((?:it implements|EDS and STATIC are)[^)]*\))$`)
	corpusSets    = regexp.MustCompile(`^(.*?\bsets )(.*), which the sim does not implement$`)
	// An HTTP filter is named by its type: Envoy Gateway's filter names
	// hold the policy they come from.
	corpusFilter = regexp.MustCompile(`http filter "[^"]*" \(([^)]+)\)`)
)

// corpusFirstField is a NACK detail's first unimplemented field: the error
// of the resource that comes first in the case's files (the detail has one
// line per rejected resource, in no set order), without the names of the
// resource and its parts, list indexes ([]), HTTP filter names (their
// types stay), what the sim implements instead, or any field after the
// first it lists.
func corpusFirstField(detail string, order []string) string {
	lines := strings.Split(strings.TrimSpace(detail), "\n")
	rank := func(line string) int {
		for i, n := range order {
			if strings.HasPrefix(line, fmt.Sprintf("%q: ", n)) {
				return i
			}
		}
		return len(order)
	}
	line := slices.MinFunc(lines, func(a, b string) int { return cmp.Compare(rank(a), rank(b)) })
	for {
		loc := corpusContext.FindStringIndex(line)
		if loc == nil {
			break
		}
		line = line[loc[1]:]
	}
	line = corpusInstead.ReplaceAllString(line, "")
	if m := corpusSets.FindStringSubmatch(line); m != nil {
		line = m[1] + corpusFirstListed(m[2])
	}
	line = corpusFilter.ReplaceAllString(line, "http filter $1")
	line = strings.ReplaceAll(line, "type.googleapis.com/", "")
	line = corpusIndex.ReplaceAllString(line, "[]")
	if len(line) > 240 {
		line = line[:240] + "…"
	}
	return line
}

// corpusFirstListed is the first item of a comma-separated list whose
// items may hold parenthesised notes with commas.
func corpusFirstListed(list string) string {
	depth := 0
	for i, r := range list {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				return list[:i]
			}
		}
	}
	return list
}

type corpusReasonCount struct {
	reason string
	count  int
}

// corpusReasonCounts counts the cases not fully accepted by their first
// reason ("<type>: <reason>"), most frequent first.
func corpusReasonCounts(results []*corpusResult) []corpusReasonCount {
	counts := map[string]int{}
	for _, r := range results {
		if typ, reason := r.firstReason(); typ != "" {
			counts[typ+": "+reason]++
		}
	}
	var out []corpusReasonCount
	for reason, n := range counts {
		out = append(out, corpusReasonCount{reason, n})
	}
	slices.SortFunc(out, func(a, b corpusReasonCount) int {
		return cmp.Or(cmp.Compare(b.count, a.count), strings.Compare(a.reason, b.reason))
	})
	return out
}

func corpusReport(results []*corpusResult, summary string, mustAccepted int) []byte {
	var b bytes.Buffer
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
	fmt.Fprintf(&b, "# Envoy Gateway translator corpus in the sim\n\n")
	fmt.Fprintf(&b, "%s (%s, %s).\n\n", summary, corpusModule, corpusOut)
	fmt.Fprintf(&b, "Must-accept cases (plain HTTP routing and API key auth) fully accepted: %d of %d.\n\n", mustAccepted, len(corpusMustAccept))
	fmt.Fprintf(&b, "## First unimplemented field, by count\n\n| cases | type: first unimplemented field |\n|---:|---|\n")
	for _, rc := range corpusReasonCounts(results) {
		fmt.Fprintf(&b, "| %d | %s |\n", rc.count, cell(rc.reason))
	}
	fmt.Fprintf(&b, "\n## Cases not fully accepted\n\n")
	fmt.Fprintf(&b, "| case | must accept | listeners | routes | clusters | endpoints | first unimplemented field |\n|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		if r.accepted() {
			continue
		}
		typ, reason := r.firstReason()
		must := ""
		if r.must {
			must = "**yes**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s: %s |\n", r.name, must,
			r.types[0].verdict, r.types[1].verdict, r.types[2].verdict, r.types[3].verdict, typ, cell(reason))
	}
	fmt.Fprintf(&b, "\n## Cases fully accepted\n\n")
	for _, r := range results {
		if r.accepted() {
			fmt.Fprintf(&b, "- %s\n", r.name)
		}
	}
	return b.Bytes()
}
