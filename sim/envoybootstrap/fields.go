package envoybootstrap

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// rule is what the sim does with one field of an Envoy message when the
// field is set. A field without a rule is an error: fields are walked by
// reflection, so a field added to the API later cannot slip through.
type rule struct {
	// ignored, when not empty, is why the field is accepted without
	// effect on the sim's traffic. Empty: the code reading the message
	// implements the field.
	ignored string
}

// implemented marks a field that the code reading the message handles.
var implemented = rule{}

// ignored marks a field accepted without effect, and says why.
func ignored(why string) rule { return rule{ignored: why} }

// fieldError is a set field that has no rule.
type fieldError struct {
	kind string // "bootstrap field", "field"
	path string
}

func (e *fieldError) Error() string {
	return fmt.Sprintf("%s %q is not implemented by the sim", e.kind, e.path)
}

// checker walks the set fields of messages against rules, collecting the
// ignored ones.
type checker struct {
	ignored []string // "path: why"
	// base goes before the paths of ignored fields: the context of a walk
	// whose errors carry paths relative to it ("static_resources.clusters[2].",
	// "SDS file /sds/ca.json: ").
	base string
}

// fields checks every set field of m, a message at path, against rules.
// It returns one error per field without a rule, in field-name order.
func (c *checker) fields(m proto.Message, kind, path string, rules map[protoreflect.Name]rule) error {
	var errs []error
	var ign []string
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		p := join(path, string(fd.Name()))
		r, ok := rules[fd.Name()]
		switch {
		case !ok:
			errs = append(errs, &fieldError{kind: kind, path: p})
		case r.ignored != "":
			ign = append(ign, c.base+p+": "+r.ignored)
		}
		return true
	})
	// Range's order is unspecified; messages and logs should not be.
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	slices.Sort(ign)
	c.ignored = append(c.ignored, ign...)
	return errors.Join(errs...)
}

// ignore records a field accepted without effect that the code found set.
func (c *checker) ignore(path, why string) {
	c.ignored = append(c.ignored, c.base+path+": "+why)
}

// within runs f with base as the context of ignored fields.
func (c *checker) within(base string, f func() error) error {
	saved := c.base
	c.base = base
	defer func() { c.base = saved }()
	return f()
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Why bootstrap fields are accepted without effect.
const (
	whyMetrics  = "metrics only: how Envoy names, tags, keeps or exports its stats; the sim keeps its own counters"
	whyOverload = "the overload manager acts only when a resource crosses its limits (Envoy Gateway's: 50,000 downstream connections, 95% of the heap); the sim's traffic stays far below them"
)

// bootstrapFields are the top-level fields of envoy.config.bootstrap.v3.Bootstrap.
var bootstrapFields = map[protoreflect.Name]rule{
	"node":                 implemented,
	"static_resources":     implemented,
	"dynamic_resources":    implemented,
	"admin":                implemented,
	"layered_runtime":      implemented,
	"cluster_manager":      implemented,
	"default_regex_engine": implemented,

	"stats_sinks":                   ignored(whyMetrics),
	"stats_config":                  ignored(whyMetrics),
	"stats_flush_interval":          ignored(whyMetrics),
	"stats_flush_on_admin":          ignored(whyMetrics),
	"stats_eviction_interval":       ignored(whyMetrics),
	"deferred_stat_options":         ignored(whyMetrics),
	"enable_dispatcher_stats":       ignored(whyMetrics),
	"stats_server_version_override": ignored(whyMetrics),
	"overload_manager":              ignored(whyOverload),
	"application_log_config":        ignored("the format of Envoy's own log lines"),
	"perf_tracing_file_path":        ignored("where Envoy writes performance traces of itself"),
	"memory_allocator_manager":      ignored("when Envoy's allocator returns memory to the OS"),
	"enable_worker_cpu_affinity":    ignored("pins Envoy's worker threads to CPUs; the sim serves with goroutines"),
}

var staticResourcesFields = map[protoreflect.Name]rule{
	"listeners": implemented, // passed on; the data plane compiles them
	"clusters":  implemented, // likewise, but for the ADS cluster
	"secrets":   implemented, // static secrets the ADS cluster's TLS may name
}

var adminFields = map[protoreflect.Name]rule{
	"address":                  implemented,
	"access_log":               ignored("the admin interface's access log (a file); the sim writes no access logs"),
	"access_log_path":          ignored("the admin interface's access log (a file); the sim writes no access logs"),
	"profile_path":             ignored("where Envoy's CPU profiler writes; the sim has no profiler endpoint"),
	"ignore_global_conn_limit": ignored("exempts the admin interface from the overload manager's connection limit, which the sim never reaches"),
}

var clusterManagerFields = map[protoreflect.Name]rule{
	"local_cluster_name":               ignored("names the cluster of this Envoy's own zone for zone-aware load balancing; the sim's environment has a single zone, where zone-aware routing picks as plain routing does"),
	"enable_deferred_cluster_creation": ignored("Envoy builds cluster objects lazily to save memory; no effect on traffic"),
}
