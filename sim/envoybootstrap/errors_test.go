package envoybootstrap

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/keyconform/keyconform/internal/testpki"
)

// baseYAML is a minimal bootstrap the sim accepts: plaintext ADS to one
// STRICT_DNS endpoint. Cases change it with strings.Replace or add
// top-level fields.
const baseYAML = `node: {id: node-1, cluster: c}
dynamic_resources:
  ads_config: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}
  lds_config: {ads: {}, resource_api_version: V3}
  cds_config: {ads: {}, resource_api_version: V3}
static_resources:
  clusters:
  - name: xds
    type: STRICT_DNS
    load_assignment:
      cluster_name: xds
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: cp.example, port_value: 18000}}}
    http2_protocol_options: {}
#MORE
`

const bootstrapPath = "/etc/envoy/envoy.yaml"

// more adds YAML at the ADS cluster's level (indented) and top level.
func withCluster(cluster string) string {
	return strings.Replace(baseYAML, "#MORE", cluster, 1)
}

func replaced(old, new string) string {
	if !strings.Contains(baseYAML, old) {
		panic("baseYAML has no " + old)
	}
	return strings.Replace(baseYAML, old, new, 1)
}

const anyStruct = `{"@type": type.googleapis.com/google.protobuf.Struct, value: {}}`

func TestBaseBootstrapLoads(t *testing.T) {
	c, err := Load(Args{ConfigPath: bootstrapPath}, files{bootstrapPath: []byte(baseYAML)}.read)
	if err != nil {
		t.Fatal(err)
	}
	if c.ADS.Address != "cp.example:18000" {
		t.Errorf("ADS = %+v", c.ADS)
	}
}

func TestLoadErrors(t *testing.T) {
	tlsCluster := func(tls string) string {
		return withCluster(`    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
` + tls)
	}
	sdsCert := tlsCluster(`        common_tls_context:
          tls_certificate_sds_secret_configs:
          - name: xds_certificate
            sds_config: {path_config_source: {path: /sds/cert.json}, resource_api_version: V3}
`)
	certFiles := files{"/certs/tls.crt": []byte("unused"), "/certs/tls.key": []byte("unused")}
	for _, tc := range []struct {
		name  string
		args  Args     // default: --config-path bootstrapPath
		yaml  string   // the bootstrap file
		files files    // more files
		want  []string // substrings of the error
	}{
		// Top-level fields the sim does not implement, each named.
		{name: "tracing", yaml: baseYAML + "tracing: {}\n", want: []string{`--config-path /etc/envoy/envoy.yaml: bootstrap field "tracing" is not implemented by the sim`}},
		{name: "hds_config", yaml: baseYAML + "hds_config: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}\n", want: []string{`bootstrap field "hds_config"`}},
		{name: "watchdog", yaml: baseYAML + "watchdog: {}\n", want: []string{`bootstrap field "watchdog"`}},
		{name: "watchdogs", yaml: baseYAML + "watchdogs: {main_thread_watchdog: {}}\n", want: []string{`bootstrap field "watchdogs"`}},
		{name: "fatal_actions", yaml: baseYAML + "fatal_actions: [{config: {name: x, typed_config: " + anyStruct + "}}]\n", want: []string{`bootstrap field "fatal_actions"`}},
		{name: "bootstrap_extensions", yaml: baseYAML + "bootstrap_extensions: [{name: x, typed_config: " + anyStruct + "}]\n", want: []string{`bootstrap field "bootstrap_extensions"`}},
		{name: "dns_resolution_config", yaml: baseYAML + "dns_resolution_config: {resolvers: [{socket_address: {address: 10.0.0.10, port_value: 53}}]}\n", want: []string{`bootstrap field "dns_resolution_config"`}},
		{name: "typed_dns_resolver_config", yaml: baseYAML + "typed_dns_resolver_config: {name: x, typed_config: " + anyStruct + "}\n", want: []string{`bootstrap field "typed_dns_resolver_config"`}},
		{name: "node_context_params", yaml: baseYAML + "node_context_params: [cluster]\n", want: []string{`bootstrap field "node_context_params"`}},
		{name: "inline_headers", yaml: baseYAML + "inline_headers: [{inline_header_name: x-a, inline_header_type: REQUEST_HEADER}]\n", want: []string{`bootstrap field "inline_headers"`}},
		{name: "header_prefix", yaml: baseYAML + "header_prefix: x-custom\n", want: []string{`bootstrap field "header_prefix"`}},
		{name: "xds_delegate_extension", yaml: baseYAML + "xds_delegate_extension: {name: x, typed_config: " + anyStruct + "}\n", want: []string{`bootstrap field "xds_delegate_extension"`}},
		{name: "several at once", yaml: baseYAML + "tracing: {}\nheader_prefix: x-custom\n", want: []string{`"header_prefix"`, `"tracing"`}},
		{name: "default_regex_engine not RE2", yaml: baseYAML + "default_regex_engine: {name: other, typed_config: " + anyStruct + "}\n", want: []string{"default_regex_engine", "GoogleRE2"}},
		{name: "admin.allow_paths", yaml: baseYAML + "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 19000}}, allow_paths: [{exact: /ready}]}\n", want: []string{`bootstrap field "admin.allow_paths"`}},
		{name: "admin on a pod address", yaml: baseYAML + "admin: {address: {socket_address: {address: 10.0.0.1, port_value: 19000}}}\n", want: []string{`admin.address "10.0.0.1"`, "loopback"}},
		{name: "cluster_manager.outlier_detection", yaml: baseYAML + "cluster_manager: {outlier_detection: {event_log_path: /tmp/x}}\n", want: []string{`bootstrap field "cluster_manager.outlier_detection"`}},
		{name: "rtds layer", yaml: baseYAML + "layered_runtime: {layers: [{name: r, rtds_layer: {name: r, rtds_config: {ads: {}, resource_api_version: V3}}}]}\n", want: []string{`bootstrap field "layered_runtime.layers[0].rtds_layer"`}},
		{name: "disk layer", yaml: baseYAML + "layered_runtime: {layers: [{name: d, disk_layer: {symlink_root: /srv/runtime}}]}\n", want: []string{`"layered_runtime.layers[0].disk_layer"`}},
		{name: "runtime key not on the list", yaml: baseYAML + "layered_runtime: {layers: [{name: s, static_layer: {envoy.reloadable_features.some_routing_change: true}}]}\n", want: []string{`layered_runtime.layers[0] "s"`, "envoy.reloadable_features.some_routing_change"}},

		// Files.
		{name: "missing file", args: Args{ConfigPath: "/etc/envoy/missing.yaml"}, want: []string{"--config-path /etc/envoy/missing.yaml", "file does not exist"}},
		{name: "bad YAML", yaml: "node: [\n", want: []string{"--config-path /etc/envoy/envoy.yaml: not an Envoy bootstrap", "yaml"}},
		{name: "bad --config-yaml", args: Args{ConfigPath: bootstrapPath, ConfigYAML: "node: [\n"}, yaml: baseYAML, want: []string{"--config-yaml: not an Envoy bootstrap"}},
		{name: "unknown field", yaml: baseYAML + "tracingg: {}\n", want: []string{"--config-path /etc/envoy/envoy.yaml", `unknown field "tracingg"`}},
		{name: "unknown typed_config type", yaml: withCluster(`    typed_extension_protocol_options:
      x: {"@type": type.googleapis.com/example.NoSuchType}
`), want: []string{"example.NoSuchType", "types.go"}},
		{name: "field from --config-yaml", args: Args{ConfigPath: bootstrapPath, ConfigYAML: "tracing: {}"}, yaml: baseYAML, want: []string{`--config-yaml: bootstrap field "tracing"`}},
		{name: "no config", args: Args{ServiceNode: "n"}, want: []string{"--config-path (-c)", "--config-yaml"}},
		{name: "invalid per the API", yaml: replaced("port_value: 18000", "port_value: 70000"), want: []string{"invalid Envoy bootstrap", "PortValue"}},

		// ADS.
		{name: "node without cluster", yaml: replaced("node: {id: node-1, cluster: c}", "node: {id: node-1}"), want: []string{"node 'id' and 'cluster' are required"}},
		{name: "ads cluster missing", yaml: replaced("cluster_name: xds}", "cluster_name: nope}"), want: []string{`"nope"`, "Unknown gRPC client cluster 'nope'"}},
		{name: "ads cluster with two endpoints", yaml: replaced("        - endpoint: {address: {socket_address: {address: cp.example, port_value: 18000}}}",
			"        - endpoint: {address: {socket_address: {address: cp.example, port_value: 18000}}}\n        - endpoint: {address: {socket_address: {address: cp2.example, port_value: 18000}}}"),
			want: []string{`static_resources.clusters[0] "xds" (the ADS cluster)`, "has 2 endpoints"}},
		{name: "ads cluster without HTTP/2", yaml: replaced("    http2_protocol_options: {}\n", ""), want: []string{"gRPC needs HTTP/2"}},
		{name: "ads cluster HTTP/1", yaml: replaced("    http2_protocol_options: {}\n", `    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http_protocol_options: {}}
`), want: []string{"gRPC needs HTTP/2"}},
		{name: "ads cluster upstream filters", yaml: replaced("    http2_protocol_options: {}\n", `    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
        http_filters:
        - name: envoy.filters.http.upstream_codec
          typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec}
`), want: []string{`field "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"].http_filters"`}},
		{name: "ads cluster health checks", yaml: withCluster("    health_checks: [{timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {}}]\n"), want: []string{`field "health_checks" is not implemented by the sim`}},
		{name: "ads cluster EDS", yaml: replaced("type: STRICT_DNS", "type: EDS"), want: []string{"type EDS"}},
		{name: "STATIC ads cluster with a name", yaml: replaced("type: STRICT_DNS", "type: STATIC"), want: []string{`"cp.example" is not an IP`}},
		{name: "api_type REST", yaml: replaced("api_type: GRPC", "api_type: REST"), want: []string{"api_type REST"}},
		{name: "transport V2", yaml: replaced("transport_api_version: V3", "transport_api_version: V2"), want: []string{"transport_api_version V2", "set V3"}},
		{name: "two grpc services", yaml: replaced("grpc_services: [{envoy_grpc: {cluster_name: xds}}]", "grpc_services: [{envoy_grpc: {cluster_name: xds}}, {envoy_grpc: {cluster_name: xds}}]"), want: []string{"2 grpc_services"}},
		{name: "google_grpc", yaml: replaced("grpc_services: [{envoy_grpc: {cluster_name: xds}}]", "grpc_services: [{google_grpc: {target_uri: cp:1, stat_prefix: x}}]"), want: []string{`"dynamic_resources.ads_config.grpc_services[0].google_grpc"`}},
		{name: "lds from a file", yaml: replaced("lds_config: {ads: {}, resource_api_version: V3}", "lds_config: {path_config_source: {path: /lds.yaml}}"), want: []string{`"dynamic_resources.lds_config.path_config_source"`}},
		{name: "no cds_config", yaml: replaced("  cds_config: {ads: {}, resource_api_version: V3}\n", ""), want: []string{"dynamic_resources.cds_config is not set"}},
		{name: "duplicate clusters", yaml: withCluster(`  - name: xds
    type: STATIC
`), want: []string{`both named "xds"`}},

		// TLS and SDS.
		{name: "SDS file missing the named secret", yaml: sdsCert, files: files{"/sds/cert.json": []byte(
			`{"resources": [{"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "other", "tls_certificate": {"certificate_chain": {"filename": "/certs/tls.crt"}, "private_key": {"filename": "/certs/tls.key"}}}]}`)},
			want: []string{`tls_certificate_sds_secret_configs[0] "xds_certificate"`, "SDS file /sds/cert.json", "Unexpected SDS secret (expecting xds_certificate): other"}},
		{name: "SDS file without resources", yaml: sdsCert, files: files{"/sds/cert.json": []byte(`{"resources": []}`)}, want: []string{"Missing SDS resources for xds_certificate"}},
		{name: "SDS file with two secrets", yaml: sdsCert, files: files{"/sds/cert.json": []byte(
			`{"resources": [{"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "a"}, {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "b"}]}`)},
			want: []string{"number of added resources 2"}},
		{name: "SDS file missing", yaml: sdsCert, want: []string{"SDS file /sds/cert.json", "file does not exist"}},
		{name: "SDS file not JSON", yaml: sdsCert, files: files{"/sds/cert.json": []byte("resources: []")}, want: []string{"SDS file /sds/cert.json: not a DiscoveryResponse"}},
		{name: "SDS secret with the wrong type", yaml: sdsCert, files: files{"/sds/cert.json": []byte(
			`{"resources": [{"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "xds_certificate", "validation_context": {}}]}`)},
			want: []string{"the secret has no tls_certificate"}},
		{name: "SDS over ADS", yaml: tlsCluster(`        common_tls_context:
          tls_certificate_sds_secret_configs:
          - name: xds_certificate
            sds_config: {ads: {}, resource_api_version: V3}
`), want: []string{`field "sds_config.ads"`, "SDS from files"}},
		{name: "unknown static secret", yaml: tlsCluster(`        common_tls_context:
          validation_context_sds_secret_config: {name: ca}
`), want: []string{"Unknown static certificate validation context: ca"}},
		{name: "key_log", yaml: tlsCluster(`        common_tls_context:
          key_log: {path: /tmp/keys}
`), want: []string{`(the ADS cluster): field "transport_socket.typed_config.common_tls_context.key_log"`}},
		{name: "prefix SAN matcher", yaml: tlsCluster(`        common_tls_context:
          validation_context:
            trusted_ca: {inline_string: x}
            match_typed_subject_alt_names: [{san_type: DNS, matcher: {prefix: envoy}}]
`), want: []string{"match_typed_subject_alt_names[0]", "only exact"}},
		{name: "SAN matcher without a CA", yaml: tlsCluster(`        common_tls_context:
          validation_context:
            match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: envoy}}]
`), want: []string{"without trusted CA is insecure"}},
		{name: "CA file of no certificate", yaml: tlsCluster(`        common_tls_context:
          validation_context:
            trusted_ca: {filename: /certs/ca.crt}
`), files: files{"/certs/ca.crt": []byte("not PEM")}, want: []string{"validation_context.trusted_ca", "Failed to load trusted CA certificates"}},
		{name: "environment variable", yaml: tlsCluster(`        common_tls_context:
          validation_context:
            trusted_ca: {environment_variable: CA_PEM}
`), want: []string{`environment_variable "CA_PEM"`}},
		{name: "two client certificates", yaml: tlsCluster(`        common_tls_context:
          tls_certificates:
          - {certificate_chain: {filename: /certs/tls.crt}, private_key: {filename: /certs/tls.key}}
          - {certificate_chain: {filename: /certs/tls.crt}, private_key: {filename: /certs/tls.key}}
`), files: certFiles, want: []string{"Multiple TLS certificates are not supported for client contexts"}},
		{name: "not a certificate", yaml: tlsCluster(`        common_tls_context:
          tls_certificates:
          - {certificate_chain: {filename: /certs/tls.crt}, private_key: {filename: /certs/tls.key}}
`), files: certFiles, want: []string{"tls_certificates[0]: certificate_chain and private_key"}},
		{name: "TLS 1.3 minimum with the default maximum", yaml: tlsCluster(`        common_tls_context:
          tls_params: {tls_minimum_protocol_version: TLSv1_3}
`), want: []string{"tls_minimum_protocol_version TLSv1_3 is above"}},
		{name: "other transport socket", yaml: withCluster(`    transport_socket:
      name: envoy.transport_sockets.upstream_proxy_protocol
      typed_config: ` + anyStruct + "\n"), want: []string{"google.protobuf.Struct", "envoy.transport_sockets.tls"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := files{}
			if tc.yaml != "" {
				fsys[bootstrapPath] = []byte(tc.yaml)
			}
			for k, v := range tc.files {
				fsys[k] = v
			}
			args := tc.args
			if args.ConfigPath == "" && args.ConfigYAML == "" && args.ServiceNode == "" {
				args.ConfigPath = bootstrapPath
			}
			_, err := Load(args, fsys.read)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadAllowUnknownStaticFields(t *testing.T) {
	args, err := ParseArgs([]string{"-c", bootstrapPath, "--allow-unknown-static-fields"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(args, files{bootstrapPath: []byte(baseYAML + "tracingg: {}\n")}.read); err != nil {
		t.Fatal(err)
	}
}

// A field the sim has no rule for is an error, whatever it is: set each
// top-level field that bootstrapFields does not list and check the error
// names it. A field added to the Envoy API fails the same way.
func TestEveryUnlistedBootstrapFieldIsRejected(t *testing.T) {
	fields := (&bootstrapv3.Bootstrap{}).ProtoReflect().Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if _, ok := bootstrapFields[fd.Name()]; ok {
			continue
		}
		t.Run(string(fd.Name()), func(t *testing.T) {
			b := &bootstrapv3.Bootstrap{}
			m := b.ProtoReflect()
			switch {
			case fd.IsList():
				l := m.Mutable(fd).List()
				if fd.Kind() == protoreflect.MessageKind {
					l.Append(protoreflect.ValueOfMessage(l.NewElement().Message()))
				} else {
					l.Append(nonZero(t, fd))
				}
			case fd.IsMap():
				t.Skip("no map fields in Bootstrap")
			case fd.Kind() == protoreflect.MessageKind:
				m.Mutable(fd)
			default:
				m.Set(fd, nonZero(t, fd))
			}
			if !m.Has(fd) {
				t.Fatal("could not set the field")
			}
			// Past the API validation, which would refuse some of these
			// empty values before the sim's own check.
			l := &loader{src: sources{pathName: "/b.yaml", path: b}, b: b}
			err := l.checkTop()
			want := fmt.Sprintf("--config-path /b.yaml: bootstrap field %q is not implemented by the sim", fd.Name())
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want %q", err, want)
			}
		})
	}
}

func nonZero(t *testing.T, fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString("x")
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(1)
	case protoreflect.Uint32Kind:
		return protoreflect.ValueOfUint32(1)
	case protoreflect.Int32Kind:
		return protoreflect.ValueOfInt32(1)
	case protoreflect.Uint64Kind:
		return protoreflect.ValueOfUint64(1)
	case protoreflect.Int64Kind:
		return protoreflect.ValueOfInt64(1)
	default:
		t.Fatalf("no non-zero value for kind %v", fd.Kind())
		return protoreflect.Value{}
	}
}

// No error quotes a private key, wherever it was misplaced.
func TestErrorsNeverQuotePrivateKeys(t *testing.T) {
	ca := testpki.NewCA(t, "ca")
	cert, key := ca.Issue(t, 0, "client")
	_, otherKey := ca.Issue(t, 0, "other")
	keyBody := strings.Split(string(key), "\n")[1] // a line of the key's base64
	keyB64 := base64.StdEncoding.EncodeToString(key)
	jsonString := func(b []byte) string { return fmt.Sprintf("%q", b) }
	tlsCluster := func(common string) string {
		return withCluster(`    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context:
` + common)
	}
	for _, tc := range []struct {
		name string
		args Args
		fsys files
	}{{
		name: "key where a DataSource belongs, in a file",
		args: Args{ConfigPath: bootstrapPath},
		fsys: files{bootstrapPath: []byte(tlsCluster("          tls_certificates: [{certificate_chain: {inline_string: " + jsonString(cert) + "}, private_key: " + jsonString(key) + "}]\n"))},
	}, {
		name: "key where a DataSource belongs, in --config-yaml",
		args: Args{ConfigYAML: tlsCluster("          tls_certificates: [{certificate_chain: {inline_string: " + jsonString(cert) + "}, private_key: " + jsonString(key) + "}]\n")},
	}, {
		name: "key that does not match its certificate",
		args: Args{ConfigPath: bootstrapPath},
		fsys: files{bootstrapPath: []byte(tlsCluster("          tls_certificates: [{certificate_chain: {inline_string: " + jsonString(cert) + "}, private_key: {inline_string: " + jsonString(otherKey) + "}}]\n"))},
	}, {
		name: "key as an unknown field",
		args: Args{ConfigPath: bootstrapPath},
		fsys: files{bootstrapPath: []byte(baseYAML + "key: " + jsonString(key) + "\n")},
	}, {
		name: "key bytes as the certificate, inline_bytes",
		args: Args{ConfigPath: bootstrapPath},
		fsys: files{bootstrapPath: []byte(tlsCluster("          tls_certificates: [{certificate_chain: {inline_bytes: " + keyB64 + "}, private_key: {inline_bytes: " + keyB64 + "}}]\n"))},
	}, {
		name: "key as a flag's value",
		args: Args{ConfigPath: bootstrapPath, ConfigYAML: string(key)},
		fsys: files{bootstrapPath: []byte(baseYAML)},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.args, tc.fsys.read)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, leak := range []string{"PRIVATE KEY-----", keyBody, keyB64[:40]} {
				if strings.Contains(msg, leak) {
					t.Errorf("error quotes the private key (%.20s...):\n%s", leak, msg)
				}
			}
		})
	}
	t.Run("command line", func(t *testing.T) {
		_, err := ParseArgs([]string{"-c", "/b.yaml", string(key)})
		if err == nil || strings.Contains(err.Error(), keyBody) || strings.Contains(err.Error(), "PRIVATE KEY-----") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("redacted errors do not unwrap to the original", func(t *testing.T) {
		err := redactErr(fmt.Errorf("wrapped: %w", errors.New(string(key))))
		if errors.Unwrap(err) != nil || strings.Contains(err.Error(), keyBody) {
			t.Fatalf("%v", err)
		}
	})
}
