package dataplane

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// What the sim does with each field of a RouteConfiguration (RDS, or a
// connection manager's inline route_config) and of the messages inside it,
// when the field is set. As clusterfields.go does for clusters, every set
// field is walked by reflection (checkRouteFields, called by
// compileRouteTable before anything else): a field this table does not
// list is rejected (NACK) naming its path, so no field, including one
// added to the API later, is ever silently ignored. The kinds are those of
// clusterfields.go: implemented (the compile code reads it and does what
// Envoy does, possibly rejecting some values), walk (a message whose own
// fields are checked here), neutral (accepted without effect on the sim's
// traffic, for the reason given) and rejected.
//
// Every field Envoy Gateway v1.9 sets in its translator's golden route
// configurations (internal/xds/translator/testdata/out/xds-ir/*.routes.yaml)
// has an entry; routefields_test.go walks them, and every route
// configuration the sim's tests have it accept, against this table.
//
// The Envoy sources cited are source/common/router/config_impl.cc
// (RouteEntryImplBase, CommonVirtualHostImpl, RouteMatcher),
// config_utility.cc, header_parser.cc, per_filter_config.cc,
// weighted_cluster_specifier.cc, router.cc, upstream_request.cc,
// source/common/http/utility.cc, filter_manager.cc and conn_manager_impl.cc.
var routeFieldRules = map[protoreflect.FullName]map[protoreflect.Name]fieldRule{
	"envoy.config.route.v3.RouteConfiguration": {
		"name":                       implemented,
		"virtual_hosts":              walk,
		"internal_only_headers":      implemented,
		"request_headers_to_add":     walk,        // applied to every route's upstream request (headerMutations)
		"request_headers_to_remove":  implemented, // likewise
		"response_headers_to_add":    walk,        // applied to every route's response, local replies included
		"response_headers_to_remove": implemented,
		// The order the three levels are evaluated in (getHeaderParsers).
		"most_specific_header_mutations_wins": implemented,
		// Only false is accepted: true makes Envoy reject a route to a
		// cluster it does not have at the time (RouteCreator), which the sim
		// cannot tell when it compiles the routes.
		"validate_clusters":                       implemented,
		"max_direct_response_body_size_bytes":     implemented, // default 4096
		"ignore_port_in_host_matching":            implemented,
		"ignore_path_parameters_in_path_matching": implemented, // sanitizePathBeforePathMatching
		"typed_per_filter_config":                 implemented, // compilePerFilter (PerFilterConfigs)
		"metadata":                                neutral(whyRouteMetadata),
		"vhds":                                    rejected("VHDS (on-demand virtual hosts)"),
		"cluster_specifier_plugins":               rejected("cluster specifier plugins"),
		"request_mirror_policies":                 rejected("request mirroring"),
		"vhost_header":                            rejected("picking the virtual host by another header than :authority"),
		"route_specifiers":                        rejected("route specifiers"),
	},
	"envoy.config.route.v3.VirtualHost": {
		"name":                       implemented,
		"domains":                    implemented,
		"routes":                     walk,
		"request_headers_to_add":     walk,
		"request_headers_to_remove":  implemented,
		"response_headers_to_add":    walk,
		"response_headers_to_remove": implemented,
		"typed_per_filter_config":    implemented,
		"metadata":                   neutral(whyRouteMetadata),
		// CommonVirtualHostImpl only builds stats scopes from them; the sim
		// still compiles their header matchers, as Envoy does, so that a
		// matcher Envoy rejects is rejected.
		"virtual_clusters": neutral(whyStats),
		"rate_limits":      neutral(whyRateLimits),
		"cors":             neutral(whyCORS),
		// The deprecated enum is only set when not NONE.
		"require_tls":                       rejected("requiring TLS (redirects to https)"),
		"matcher":                           rejected("route selection by a generic matcher"),
		"include_request_attempt_count":     rejected("x-envoy-attempt-count on upstream requests"),
		"include_attempt_count_in_response": rejected("x-envoy-attempt-count on responses"),
		"retry_policy":                      rejected(whyNoRetries),
		"retry_policy_typed_config":         rejected(whyNoRetries),
		"hedge_policy":                      rejected("request hedging"),
		"include_is_timeout_retry_header":   rejected("x-envoy-is-timeout-retry on retried requests"),
		"per_request_buffer_limit_bytes":    rejected("per-request buffer limits"),
		"request_body_buffer_limit":         rejected("per-request buffer limits"),
		"request_mirror_policies":           rejected("request mirroring"),
		"route_specifiers":                  rejected("route specifiers"),
	},
	"envoy.config.route.v3.Route": {
		"name":                       implemented,
		"match":                      walk,
		"route":                      walk,
		"redirect":                   walk,
		"direct_response":            walk,
		"typed_per_filter_config":    implemented,
		"request_headers_to_add":     walk,
		"request_headers_to_remove":  implemented,
		"response_headers_to_add":    walk,
		"response_headers_to_remove": implemented,
		"metadata":                   neutral(whyRouteMetadata),
		// Both are read only while the connection manager traces
		// (ActiveStream::traceRequest and refreshCachedTracingCustomTags
		// return early without a tracing config), and the sim rejects the
		// connection manager's tracing.
		"decorator":                      neutral(whyNoTracing),
		"tracing":                        neutral(whyNoTracing),
		"stat_prefix":                    neutral(whyStats),
		"filter_action":                  rejected("filter actions"),
		"non_forwarding_action":          rejected("non-forwarding actions"),
		"per_request_buffer_limit_bytes": rejected("per-request buffer limits"),
		"request_body_buffer_limit":      rejected("per-request buffer limits"),
		"route_specifiers":               rejected("route specifiers"),
	},
	"envoy.config.route.v3.RouteMatch": {
		"prefix":                implemented,
		"path":                  implemented,
		"safe_regex":            walk,
		"path_separated_prefix": implemented,
		"case_sensitive":        implemented,
		"headers":               walk,
		"query_parameters":      walk,
		"cookies":               walk,
		"connect_matcher":       rejected("CONNECT routes"),
		"path_match_policy":     rejected("URI template path matching"),
		"runtime_fraction":      rejected("matching a fraction of requests"),
		"grpc":                  rejected("matching gRPC requests only"),
		"tls_context":           rejected("matching on the TLS context"),
		"dynamic_metadata":      rejected("matching on dynamic metadata"),
		"filter_state":          rejected("matching on filter state"),
	},
	"envoy.config.route.v3.HeaderMatcher": {
		"name":                          implemented,
		"exact_match":                   implemented,
		"safe_regex_match":              walk,
		"range_match":                   walk,
		"present_match":                 implemented,
		"prefix_match":                  implemented,
		"suffix_match":                  implemented,
		"contains_match":                implemented,
		"string_match":                  walk,
		"invert_match":                  implemented,
		"treat_missing_header_as_empty": implemented,
	},
	"envoy.config.route.v3.QueryParameterMatcher": {
		"name":          implemented,
		"string_match":  walk,
		"present_match": implemented, // ConfigUtility::QueryParameterMatcher, new present_match behaviour
	},
	"envoy.config.route.v3.CookieMatcher": {
		"name":         implemented,
		"string_match": walk,
		"invert_match": implemented,
	},
	"envoy.type.matcher.v3.StringMatcher": {
		"exact":       implemented,
		"prefix":      implemented,
		"suffix":      implemented,
		"safe_regex":  walk,
		"contains":    implemented,
		"ignore_case": implemented,
		"custom":      rejected("custom string matchers"),
	},
	"envoy.type.matcher.v3.RegexMatcher": {
		"regex":      implemented,
		"google_re2": rejected("RE2 program size limits"),
	},
	"envoy.type.v3.Int64Range": {
		"start": implemented,
		"end":   implemented,
	},
	"envoy.type.matcher.v3.RegexMatchAndSubstitute": {
		"pattern":      walk,
		"substitution": implemented,
	},

	"envoy.config.route.v3.RouteAction": {
		"cluster":                         implemented,
		"weighted_clusters":               walk,
		"cluster_not_found_response_code": implemented,
		"timeout":                         implemented, // from the end of the request (Filter::onRequestComplete); default 15s
		"idle_timeout":                    implemented, // overrides the stream idle timeout (refreshIdleTimeout)
		"max_stream_duration":             walk,
		"prefix_rewrite":                  implemented,
		"regex_rewrite":                   walk,
		"host_rewrite_literal":            implemented,
		"auto_host_rewrite":               implemented, // to the picked endpoint's hostname, when it has one
		"host_rewrite_header":             implemented,
		"host_rewrite_path_regex":         walk,
		"append_x_forwarded_host":         implemented,
		"upgrade_configs":                 walk,
		// RoutingPriority HIGH (DEFAULT is never set) picks the cluster's
		// HIGH circuit breaker thresholds and connection pools; the sim
		// rejects every circuit breaker limit, and pools change nothing the
		// client or upstream sees.
		"priority": neutral("picks the circuit breaker thresholds and connection pools of a priority; the sim rejects circuit breaker limits, and which pool a request uses changes nothing on the wire"),
		// Hashes are computed only when the load balancer asks
		// (LoadBalancerContext::computeHashKey: ring hash and Maglev, which
		// the sim rejects at the cluster) or for weighted clusters with
		// use_hash_policy (rejected below); cookies with a ttl are only
		// generated then too.
		"hash_policy":                     neutral("read only by hash-based load balancers (ring hash, Maglev: rejected at the cluster) and by weighted_clusters.use_hash_policy (rejected)"),
		"rate_limits":                     neutral(whyRateLimits),
		"include_vh_rate_limits":          neutral(whyRateLimits),
		"cors":                            neutral(whyCORS),
		"cluster_header":                  rejected("picking the cluster from a request header"),
		"cluster_specifier_plugin":        rejected("cluster specifier plugins"),
		"inline_cluster_specifier_plugin": rejected("cluster specifier plugins"),
		"metadata_match":                  rejected("subset load balancing"),
		"path_rewrite_policy":             rejected("URI template path rewrites"),
		"path_rewrite":                    rejected("path rewrites by substitution format"),
		"host_rewrite":                    rejected("host rewrites by substitution format"),
		"flush_timeout":                   rejected("stream flush timeouts"),
		"retry_policy":                    rejected(whyNoRetries),
		"retry_policy_typed_config":       rejected(whyNoRetries),
		"request_mirror_policies":         rejected("request mirroring"),
		"max_grpc_timeout":                rejected("gRPC timeouts"),
		"grpc_timeout_offset":             rejected("gRPC timeouts"),
		"internal_redirect_policy":        rejected("internal redirects"),
		"internal_redirect_action":        rejected("internal redirects"),
		"max_internal_redirects":          rejected("internal redirects"),
		"hedge_policy":                    rejected("request hedging"),
		// An extension Envoy loads by type (and rejects when it has none);
		// it only matters with upstream TLS, which the sim does not have.
		"early_data_policy": rejected("early data policies"),
	},
	"envoy.config.route.v3.RouteAction.MaxStreamDuration": {
		"max_stream_duration":        implemented, // refreshDurationTimeout; 0 disables
		"grpc_timeout_header_max":    rejected("gRPC timeouts"),
		"grpc_timeout_header_offset": rejected("gRPC timeouts"),
	},
	"envoy.config.route.v3.RouteAction.UpgradeConfig": {
		"upgrade_type":   implemented,
		"enabled":        implemented,
		"connect_config": rejected("CONNECT upgrades"),
	},
	"envoy.config.route.v3.WeightedCluster": {
		"clusters": walk,
		// WeightedClusterSpecifierPlugin sums the clusters' weights and never
		// reads it.
		"total_weight": neutral("deprecated and unread: Envoy sums the clusters' weights (WeightedClusterSpecifierPlugin)"),
		// The weights would come from the runtime keys <prefix>.<cluster>,
		// defaulting to the configured ones; the sim's runtime holds no
		// such key, so the weights are the configured ones.
		"runtime_key_prefix": neutral("the runtime could override the weights, but the sim's runtime holds no such key (sim/envoybootstrap refuses keys it does not know)"),
		"use_hash_policy":    implemented, // false only
		"header_name":        rejected("picking the weighted cluster by a request header's value"),
	},
	"envoy.config.route.v3.WeightedCluster.ClusterWeight": {
		"name":                       implemented,
		"weight":                     implemented,
		"request_headers_to_add":     walk, // before the route's (WeightedClusterEntry::finalizeRequestHeaders)
		"request_headers_to_remove":  implemented,
		"response_headers_to_add":    walk,
		"response_headers_to_remove": implemented,
		"host_rewrite_literal":       implemented,
		"cluster_header":             rejected("picking the cluster from a request header"),
		"metadata_match":             rejected("subset load balancing"),
		"typed_per_filter_config":    implemented, // most specific (WeightedClusterEntry::mostSpecificPerFilterConfig)
	},
	"envoy.config.route.v3.RedirectAction": {
		"https_redirect":  implemented,
		"scheme_redirect": implemented,
		"host_redirect":   implemented,
		"port_redirect":   implemented,
		"path_redirect":   implemented,
		"prefix_rewrite":  implemented,
		"regex_rewrite":   walk,
		"response_code":   implemented,
		"strip_query":     implemented,
		"path_rewrite":    rejected("redirect paths by substitution format"),
	},
	"envoy.config.route.v3.DirectResponseAction": {
		"status":      implemented,
		"body":        walk,
		"body_format": walk,
	},
	"envoy.config.core.v3.DataSource": {
		"inline_bytes":         implemented,
		"inline_string":        implemented,
		"filename":             rejected("bodies read from files"),
		"environment_variable": rejected("bodies read from environment variables"),
		"watched_directory":    rejected("bodies read from files"),
	},
	"envoy.config.core.v3.SubstitutionFormatString": {
		"text_format":         implemented, // literal text and %LOCAL_REPLY_BODY%
		"text_format_source":  walk,
		"content_type":        implemented,
		"omit_empty_values":   implemented, // %LOCAL_REPLY_BODY% is never empty-valued
		"json_format":         rejected("JSON body formats"),
		"json_format_options": rejected("JSON body formats"),
		"formatters":          rejected("formatter extensions"),
	},
	"envoy.config.core.v3.HeaderValueOption": {
		"header":           walk,
		"append":           implemented, // deprecated form of append_action
		"append_action":    implemented,
		"keep_empty_value": implemented,
	},
	"envoy.config.core.v3.HeaderValue": {
		"key":       implemented,
		"value":     implemented, // literal text only: a %COMMAND% is rejected
		"raw_value": rejected("header values in raw_value"),
	},
}

// Why route fields are accepted without effect.
const (
	whyRouteMetadata = "data for filters, access logs and extensions to read; none the sim implements reads it (Envoy Gateway's names the Gateway API objects behind the route)"
	whyRateLimits    = "read only by the rate limit filters, which the sim does not have (a connection manager with one is rejected)"
	whyCORS          = "read only by the CORS filter, which the sim does not have (a connection manager with it is rejected)"
	whyNoTracing     = "read only when the connection manager traces, and the sim rejects its tracing"
	whyNoRetries     = "retries: the sim's router never retries"
)

// checkRouteFields walks the set fields of a route configuration against
// routeFieldRules and returns an error naming every field the sim does not
// implement by its path, or nil.
func checkRouteFields(m proto.Message, what string) error {
	return checkRules(routeFieldRules, m, what, "")
}
