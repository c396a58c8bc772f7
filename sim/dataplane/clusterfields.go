package dataplane

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// What the sim does with each field of a Cluster, a ClusterLoadAssignment
// and the messages inside them, when the field is set. Fields are walked by
// reflection: a set field that this table does not list is rejected (NACK)
// naming it, so no field, including one added to the API later, is ever
// silently ignored. Kinds:
//
//   - implemented: the compile code reads the field and does what Envoy
//     does with it (it may still reject some values, naming the field);
//   - walk: a message, accepted as far as its own set fields are: each is
//     checked against its message's entry here (in lists and maps too),
//     and the compile code reads the ones marked implemented;
//   - neutral: accepted, with no effect on the sim's traffic, for the
//     reason given;
//   - rejected: the sim does not implement it (the note says what it is).
//
// Every field Envoy Gateway v1.9 sets on clusters and endpoints (its
// translator's golden files, internal/xds/translator/testdata/out/xds-ir)
// has an entry; other fields Envoy knows are listed when the reason is worth
// reading, and rejected by default otherwise.
var fieldRules = map[protoreflect.FullName]map[protoreflect.Name]fieldRule{
	"envoy.config.cluster.v3.Cluster": {
		"name":                             implemented,
		"type":                             implemented, // EDS and STATIC; other types are rejected
		"eds_cluster_config":               walk,
		"load_assignment":                  walk,        // STATIC clusters; rejected on EDS clusters
		"connect_timeout":                  implemented, // bounds the dial (default 5s)
		"lb_policy":                        implemented, // ROUND_ROBIN, LEAST_REQUEST, RANDOM
		"load_balancing_policy":            walk,        // least_request, round_robin, random
		"least_request_lb_config":          walk,        // read with lb_policy LEAST_REQUEST only, as Envoy does
		"round_robin_lb_config":            walk,        // read with lb_policy ROUND_ROBIN only, as Envoy does
		"common_lb_config":                 walk,
		"circuit_breakers":                 walk,
		"upstream_connection_options":      walk,
		"typed_extension_protocol_options": implemented, // HttpProtocolOptions, checked by compileProtocolOptions
		"wait_for_warm_on_init":            implemented, // true, Envoy's default for EDS; false is rejected

		"alt_stat_name":                            neutral(whyStats),
		"stats_matcher":                            neutral(whyStats),
		"track_cluster_stats":                      neutral(whyStats),
		"track_timeout_budgets":                    neutral(whyStats),
		"metadata":                                 neutral("data for filters and extensions to read; none the sim implements reads cluster metadata (Envoy Gateway's names the Gateway API objects behind the cluster)"),
		"per_connection_buffer_limit_bytes":        neutral(whyBufferLimit),
		"dns_lookup_family":                        neutral(whyDNS),
		"dns_refresh_rate":                         neutral(whyDNS),
		"dns_failure_refresh_rate":                 neutral(whyDNS),
		"dns_jitter":                               neutral(whyDNS),
		"respect_dns_ttl":                          neutral(whyDNS),
		"dns_resolvers":                            neutral(whyDNS),
		"dns_resolution_config":                    neutral(whyDNS),
		"typed_dns_resolver_config":                neutral(whyDNS),
		"use_tcp_for_dns_lookups":                  neutral(whyDNS),
		"cleanup_interval":                         neutral("only ORIGINAL_DST clusters drop stale hosts on this interval; the sim implements EDS and STATIC"),
		"ignore_health_on_host_removal":            neutral(whyHealthChecks),
		"close_connections_on_host_health_failure": neutral("acts when active health checking or outlier detection marks a host unhealthy; the sim implements neither (both are rejected)"),

		"cluster_type":             rejected("custom cluster types"),
		"health_checks":            rejected("active health checking"),
		"outlier_detection":        rejected("outlier detection (passive health checking)"),
		"transport_socket":         rejected("TLS or other transport sockets to upstreams"),
		"transport_socket_matches": rejected("TLS or other transport sockets to upstreams"),
		"transport_socket_matcher": rejected("TLS or other transport sockets to upstreams"),
		"lb_subset_config":         rejected("subset load balancing"),
		"ring_hash_lb_config":      rejected("ring hash load balancing"),
		"maglev_lb_config":         rejected("Maglev load balancing"),
		"original_dst_lb_config":   rejected("original destination load balancing"),
		"preconnect_policy":        rejected("connections opened ahead of requests"),
		"upstream_bind_config":     rejected("a source address for upstream connections"),
		"filters":                  rejected("upstream network filters"),
		"upstream_config":          rejected("custom upstream connection pools"),
		"per_connection_buffer_high_watermark_timeout": rejected("closing connections whose buffers stay full"),
		"max_requests_per_connection":                  rejected("closing upstream connections after N requests"),
		"upstream_http_protocol_options":               rejected("upstream HTTP protocol options"),
		"common_http_protocol_options":                 rejected("upstream HTTP protocol options"),
		"http_protocol_options":                        rejected("upstream HTTP protocol options"),
		"http2_protocol_options":                       rejected("HTTP/2 to upstreams"),
		"protocol_selection":                           rejected("the downstream's protocol upstream"),
		"lrs_server":                                   rejected("load reporting"),
		"lrs_report_endpoint_metrics":                  rejected("load reporting"),
		"connection_pool_per_downstream_connection":    rejected("a connection pool per downstream connection"),
	},
	"envoy.config.cluster.v3.Cluster.EdsClusterConfig": {
		"eds_config":   walk,
		"service_name": implemented,
	},
	"envoy.config.core.v3.ConfigSource": { // eds_config
		"ads":                   implemented, // the only source: the sim gets endpoints on its ADS stream
		"resource_api_version":  implemented, // V3
		"initial_fetch_timeout": implemented, // the cluster warms at most that long
	},
	"envoy.config.cluster.v3.Cluster.CommonLbConfig": {
		"healthy_panic_threshold":              implemented, // default 50%
		"zone_aware_lb_config":                 walk,        // with lb_policy
		"locality_weighted_lb_config":          walk,        // with lb_policy
		"ignore_new_hosts_until_first_hc":      neutral(whyHealthChecks),
		"update_merge_window":                  rejected("delaying host weight and health updates"),
		"close_connections_on_host_set_change": rejected("closing connections when hosts change"),
		"consistent_hashing_lb_config":         rejected("consistent hashing"),
		"override_host_status":                 rejected("host overrides"),
	},
	"envoy.config.cluster.v3.Cluster.CommonLbConfig.ZoneAwareLbConfig": {
		"routing_enabled":       neutral(whyZoneAware),
		"min_cluster_size":      neutral(whyZoneAware),
		"fail_traffic_on_panic": implemented,
	},
	"envoy.config.cluster.v3.Cluster.LeastRequestLbConfig": {
		"choice_count":        implemented,
		"active_request_bias": walk,
		"slow_start_config":   rejected("slow start"),
	},
	"envoy.config.cluster.v3.Cluster.RoundRobinLbConfig": {
		"slow_start_config": rejected("slow start"),
	},
	"envoy.config.cluster.v3.CircuitBreakers": {
		"thresholds":          walk,
		"per_host_thresholds": rejected("per-host circuit breakers"),
	},
	"envoy.config.cluster.v3.CircuitBreakers.Thresholds": {
		"priority":             neutral("says which routes (by route priority) the limits in this entry are for; the limits below are what matter"),
		"max_retries":          neutral(whyRetries),
		"retry_budget":         neutral(whyRetries),
		"track_remaining":      neutral(whyStats),
		"max_connections":      rejected("circuit breaking on connections"),
		"max_pending_requests": rejected("circuit breaking on pending requests"),
		"max_requests":         rejected("circuit breaking on requests"),
		"max_connection_pools": rejected("circuit breaking on connection pools"),
	},
	"envoy.config.cluster.v3.UpstreamConnectionOptions": {
		"tcp_keepalive": neutral("keepalive probes only detect upstream peers that vanish without closing their connection, which the sim's loopback connections never do"),
	},
	"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
		"explicit_http_config":         walk,
		"common_http_protocol_options": walk,
	},
	// The upstream connections' options (HttpProtocolOptions.common_...).
	"envoy.config.core.v3.HttpProtocolOptions": {
		"idle_timeout": implemented, // an idle pooled connection is closed (Envoy's default 1h)
		"max_connection_duration": neutral("Envoy drains a connection that reaches it: requests under way finish, the next ones open a new connection, " +
			"so no request sees a difference (source/common/http/conn_pool_base.cc onConnectionDurationTimeout)"),
	},
	"envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig": {
		"http_protocol_options":  walk, // HTTP/1.1, what the sim speaks upstream
		"http2_protocol_options": rejected("HTTP/2 to upstreams"),
		"http3_protocol_options": rejected("HTTP/3 to upstreams"),
	},
	// envoy.config.core.v3.Http1ProtocolOptions: no entry, so only the
	// empty message (HTTP/1.1 with Envoy's defaults) is accepted.
	"envoy.config.core.v3.Http1ProtocolOptions": {},

	"envoy.config.cluster.v3.LoadBalancingPolicy": {
		"policies": walk, // the first one is used, as Envoy uses the first it knows
	},
	"envoy.config.cluster.v3.LoadBalancingPolicy.Policy": {
		"typed_extension_config": walk,
	},
	"envoy.config.core.v3.TypedExtensionConfig": {
		"name":         implemented, // for messages; Envoy finds the policy by typed_config's type
		"typed_config": implemented, // unpacked and checked by compileLoadBalancingPolicy
	},
	// load_balancing_policy.policies[].typed_extension_config.typed_config.
	"envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest": {
		"choice_count":        implemented, // default 2
		"selection_method":    implemented, // N_CHOICES (default) or FULL_SCAN
		"active_request_bias": walk,        // default 1.0
		"locality_lb_config":  walk,
		"enable_full_scan":    neutral("unused: Envoy reads selection_method instead (the field is documented as replaced by it)"),
		"slow_start_config":   rejected("slow start"),
	},
	"envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin": {
		"locality_lb_config": walk,
		"slow_start_config":  rejected("slow start"),
	},
	"envoy.extensions.load_balancing_policies.random.v3.Random": {
		"locality_lb_config": walk,
	},
	"envoy.extensions.load_balancing_policies.common.v3.LocalityLbConfig": {
		"locality_weighted_lb_config": walk,
		"zone_aware_lb_config":        walk,
	},
	"envoy.extensions.load_balancing_policies.common.v3.LocalityLbConfig.ZoneAwareLbConfig": {
		"routing_enabled":               neutral(whyZoneAware),
		"min_cluster_size":              neutral(whyZoneAware),
		"locality_basis":                neutral(whyZoneAware),
		"fail_traffic_on_panic":         implemented,
		"force_local_zone":              rejected("zone-aware routing forced to the local zone (it bypasses the local cluster's zone count, so it may act in one zone)"),
		"force_locality_direct_routing": rejected("zone-aware routing forced to the local zone (it bypasses the local cluster's zone count, so it may act in one zone)"),
	},
	"envoy.config.core.v3.RuntimeDouble": {
		"default_value": implemented,
		"runtime_key":   neutral("the runtime could override default_value, but the sim's runtime holds no such key (sim/envoybootstrap refuses keys it does not know)"),
	},

	// ClusterLoadAssignment, from EDS or a STATIC cluster's load_assignment.
	"envoy.config.endpoint.v3.ClusterLoadAssignment": {
		"cluster_name":    implemented,
		"endpoints":       walk,
		"policy":          walk,
		"named_endpoints": rejected("named endpoints"),
	},
	"envoy.config.endpoint.v3.ClusterLoadAssignment.Policy": {
		"overprovisioning_factor":  implemented, // default 140
		"weighted_priority_health": implemented,
		"drop_overloads":           rejected("dropping a share of requests"),
		"endpoint_stale_after":     rejected("endpoints going stale"),
	},
	"envoy.config.endpoint.v3.LocalityLbEndpoints": {
		"locality":                     walk,
		"lb_endpoints":                 walk,
		"load_balancing_weight":        implemented,
		"priority":                     implemented,
		"metadata":                     neutral(whyEndpointMetadata),
		"proximity":                    neutral("Envoy does not implement it either ([#not-implemented-hide:]) and ignores it"),
		"load_balancer_endpoints":      rejected("endpoint lists in load_balancer_endpoints"),
		"leds_cluster_locality_config": rejected("LEDS"),
	},
	"envoy.config.core.v3.Locality": {
		"region":   implemented,
		"zone":     implemented,
		"sub_zone": implemented,
	},
	"envoy.config.endpoint.v3.LbEndpoint": {
		"endpoint":              walk,
		"health_status":         implemented,
		"load_balancing_weight": implemented,
		"metadata":              neutral(whyEndpointMetadata),
		"endpoint_name":         rejected("named endpoints"),
	},
	"envoy.config.endpoint.v3.Endpoint": {
		"address":              walk,
		"health_check_config":  neutral(whyHealthChecks),
		"hostname":             implemented, // the host auto_host_rewrite sets (UpstreamRequest::onPoolReady); also read by health checks, which are rejected
		"additional_addresses": rejected("endpoints with several addresses"),
		"observability_name":   rejected("endpoint observability names"),
	},
	"envoy.config.core.v3.Address": {
		"socket_address":         walk,
		"pipe":                   rejected("Unix domain socket endpoints"),
		"envoy_internal_address": rejected("internal listener endpoints"),
	},
	"envoy.config.core.v3.SocketAddress": {
		"address":     implemented, // an IP address
		"port_value":  implemented,
		"ipv4_compat": neutral("read only for sockets Envoy listens on"),
		// protocol is only set when not TCP.
		"protocol":                   rejected("UDP endpoints"),
		"named_port":                 rejected("named ports"),
		"resolver_name":              rejected("custom address resolvers"),
		"network_namespace_filepath": rejected("network namespaces"),
	},
}

// Why fields are accepted without effect.
const (
	whyStats            = "names, tags or adds stats only; the sim keeps its own counters"
	whyBufferLimit      = "sets the flow-control watermarks of each upstream connection's buffers; they only pause reading, never change what is forwarded, and the sim streams bodies without buffering them whole"
	whyDNS              = "read only by cluster types that resolve names (STRICT_DNS, LOGICAL_DNS, dynamic forward proxy); the sim implements EDS and STATIC, whose endpoints are IP addresses"
	whyHealthChecks     = "only matters with active health checking, which the sim does not implement (health_checks is rejected)"
	whyRetries          = "bounds retries, and the sim's router never retries"
	whyZoneAware        = "zone-aware routing needs the local cluster (cluster_manager.local_cluster_name), which the sim does not give its data plane: it runs in one zone, and while the local cluster's hosts are in fewer than two localities ZoneAwareLoadBalancerBase::earlyExitNonLocalityRouting always exits (unless forced, which is rejected), before any of these settings is read, so they change no pick"
	whyEndpointMetadata = "read by subset load balancing, transport socket matching and the HTTP/1.1 proxy transport socket, which the sim rejects, and by stats (envoy.lb canary)"
)

type ruleKind uint8

const (
	ruleRejected ruleKind = iota
	ruleImplemented
	ruleWalk
	ruleNeutral
)

type fieldRule struct {
	kind ruleKind
	note string // neutral: why it changes nothing; rejected: what it is
}

var (
	implemented = fieldRule{kind: ruleImplemented}
	walk        = fieldRule{kind: ruleWalk}
)

func neutral(why string) fieldRule   { return fieldRule{kind: ruleNeutral, note: why} }
func rejected(what string) fieldRule { return fieldRule{kind: ruleRejected, note: what} }

// checkFields walks the set fields of a cluster (or a message in it, at
// path) against fieldRules; see checkRules.
func checkFields(m proto.Message, what, path string) error {
	return checkRules(fieldRules, m, what, path)
}

// checkRules walks the set fields of m against table and returns an error
// naming, by path, every field the table does not accept, or nil.
func checkRules(table map[protoreflect.FullName]map[protoreflect.Name]fieldRule, m proto.Message, what, path string) error {
	bad := ruleViolations(table, m, path)
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%s sets %s, which the sim does not implement", what, strings.Join(bad, ", "))
}

// ruleViolations lists, sorted, the set fields of m (by path, with the note
// of a rejected one) that table does not accept.
func ruleViolations(table map[protoreflect.FullName]map[protoreflect.Name]fieldRule, m proto.Message, path string) []string {
	var bad []string
	walkRules(table, m.ProtoReflect(), path, &bad)
	slices.Sort(bad)
	return bad
}

func walkRules(table map[protoreflect.FullName]map[protoreflect.Name]fieldRule, m protoreflect.Message, path string, bad *[]string) {
	rules, ok := table[m.Descriptor().FullName()]
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := string(fd.Name())
		if path != "" {
			p = path + "." + p
		}
		r, listed := rules[fd.Name()]
		switch {
		case !ok || !listed:
			*bad = append(*bad, p)
		case r.kind == ruleRejected:
			*bad = append(*bad, p+" ("+r.note+")")
		case r.kind == ruleWalk:
			switch {
			case fd.IsList():
				for i := range v.List().Len() {
					walkRules(table, v.List().Get(i).Message(), fmt.Sprintf("%s[%d]", p, i), bad)
				}
			case fd.IsMap():
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					walkRules(table, mv.Message(), fmt.Sprintf("%s[%q]", p, k.String()), bad)
					return true
				})
			default:
				walkRules(table, v.Message(), p, bad)
			}
		}
		return true
	})
}
