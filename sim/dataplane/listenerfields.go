package dataplane

import "google.golang.org/protobuf/reflect/protoreflect"

// What the sim does with each field of a Listener, when set, in the manner
// of clusterfields.go: walked by reflection before the listener is
// compiled, so a field this table does not list is rejected (NACK) naming
// it and nothing is silently ignored. The connection manager inside a
// filter chain has its own checks (compileHCM, hcmoptions.go).
//
// Every listener-level field Envoy Gateway v1.9 sets (its translator's
// golden *.listeners.yaml) has an entry.
var listenerFieldRules = map[protoreflect.FullName]map[protoreflect.Name]fieldRule{
	"envoy.config.listener.v3.Listener": {
		"name":                 implemented,
		"address":              walk,
		"filter_chains":        walk,
		"default_filter_chain": walk,

		"stat_prefix":       neutral(whyStats),
		"metadata":          neutral("data for filters to read; none the sim implements reads listener metadata"),
		"access_log":        neutral("access logs write records of requests and change none"),
		"traffic_direction": neutral("read by tracing and by filters the sim does not have"),
		"per_connection_buffer_limit_bytes": neutral("flow-control watermarks on downstream connections: " +
			"they pace reading and writing, never change a request or a response"),
		"max_connections_to_accept_per_socket_event": neutral("how many connections a worker accepts per wake-up: " +
			"it paces accepting, never refuses one"),
		"bypass_overload_manager": neutral("the sim has no overload manager: nothing is ever shed"),
		"drain_type":              neutral("draining is not simulated: a removed listener stops at once"),
		"enable_reuse_port":       neutral("how sockets are shared between worker threads; the sim has one"),

		"listener_filters":                     walk,        // the TLS inspector only, checked by checkListenerFilters
		"listener_filters_timeout":             implemented, // bounds the ClientHello and the handshake
		"continue_on_listener_filters_timeout": rejected("serving a connection whose ClientHello did not come in time"),
		"socket_options":                       rejected("socket options"),
		"udp_listener_config":                  rejected("UDP listeners"),
		"connection_balance_config":            rejected("connection balancing between workers"),
		"additional_addresses":                 rejected("additional listener addresses"),
		"transparent":                          rejected("transparent listeners"),
		"freebind":                             rejected("freebind"),
		"tcp_fast_open_queue_length":           rejected("TCP fast open"),
		"tcp_backlog_size":                     rejected("the TCP backlog size"),
		"bind_to_port":                         rejected("listeners that do not bind their port"),
		"use_original_dst":                     rejected("original destination listeners"),
		"internal_listener":                    rejected("internal listeners"),
		"filter_chain_matcher":                 rejected("filter chain matchers (the filter_chain_match of each chain is implemented)"),
		"api_listener":                         rejected("API listeners"),
	},
	"envoy.config.core.v3.Address": {
		"socket_address": walk,
	},
	"envoy.config.core.v3.SocketAddress": {
		"address":     implemented,
		"port_value":  implemented,
		"protocol":    implemented, // TCP; a UDP listener is rejected by its udp_listener_config
		"ipv4_compat": neutral("lets an IPv6 wildcard listener take IPv4 connections too; the sim listens on IPv4 loopback"),
	},
	"envoy.config.listener.v3.FilterChain": {
		"filters":                          implemented, // one http_connection_manager, compiled by compileHCM
		"filter_chain_match":               walk,
		"transport_socket":                 implemented, // a DownstreamTlsContext, compiled by compileDownstreamTLS
		"name":                             neutral(whyStats),
		"metadata":                         neutral("data for filters to read; none the sim implements reads filter chain metadata"),
		"transport_socket_connect_timeout": rejected("the downstream TLS handshake timeout"),
	},
	"envoy.config.listener.v3.FilterChainMatch": {
		"destination_port":            implemented,
		"server_names":                implemented,
		"transport_protocol":          implemented,
		"application_protocols":       implemented,
		"prefix_ranges":               rejected("matching on the destination address"),
		"address_suffix":              rejected("matching on the destination address"),
		"suffix_len":                  rejected("matching on the destination address"),
		"direct_source_prefix_ranges": rejected("matching on the source address"),
		"source_type":                 rejected("matching on the source address"),
		"source_prefix_ranges":        rejected("matching on the source address"),
		"source_ports":                rejected("matching on the source port"),
	},
	"envoy.config.listener.v3.ListenerFilter": {
		"name":             neutral("the sim knows a listener filter by its typed_config's type, as Envoy does"),
		"typed_config":     implemented, // the TLS inspector, whose fields are below
		"config_discovery": rejected("listener filters over ECDS"),
		"filter_disabled":  rejected("listener filters disabled by a match"),
	},
	"envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector": {
		"enable_ja3_fingerprinting":                       neutral("fingerprints are read by access logs only"),
		"enable_ja4_fingerprinting":                       neutral("fingerprints are read by access logs only"),
		"initial_read_buffer_size":                        neutral("how much of the ClientHello is read at a time; the sim reads all of it"),
		"max_client_hello_size":                           rejected("a ClientHello size limit"),
		"close_connection_on_client_hello_parsing_errors": rejected("closing connections on malformed ClientHellos"),
	},
}
