package envoybootstrap

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/provision"
	"github.com/keyconform/keyconform/internal/testpki"
)

// files is a pod's filesystem: path -> contents.
type files map[string][]byte

func (f files) read(path string) ([]byte, error) {
	if b, ok := f[path]; ok {
		return b, nil
	}
	return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// adsOpts compares ADS values, whose TLS is checked by handshakes instead.
var adsOpts = cmp.Options{protocmp.Transform(), cmpopts.IgnoreFields(ADS{}, "TLS")}

// checkIgnored fails t unless ignored has an entry for each of paths.
func checkIgnored(t *testing.T, ignored []string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if !slices.ContainsFunc(ignored, func(s string) bool { return strings.HasPrefix(s, p+": ") }) {
			t.Errorf("Ignored has no entry for %s:\n%s", p, strings.Join(ignored, "\n"))
		}
	}
}

// Our controller's data plane, from the objects it provisions: the
// container's command line and its bootstrap ConfigMap as mounted.
func TestLoadOurs(t *testing.T) {
	key := types.NamespacedName{Namespace: "kgateway-system", Name: "http"}
	cfg := provision.DefaultConfig()
	want, err := provision.Bootstrap(key, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := provision.RenderBootstrap(want)
	if err != nil {
		t.Fatal(err)
	}
	gw := &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, UID: "6d1c3f9e-0000-4000-8000-000000000002"},
		Spec: gwv1.GatewaySpec{GatewayClassName: "kgateway", Listeners: []gwv1.Listener{
			{Name: "http", Protocol: gwv1.HTTPProtocolType, Port: 8080},
		}},
	}
	objs, err := provision.Objects(gw, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.PodSpec
	configMaps := map[string]*corev1.ConfigMap{}
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			pod = o.Spec.Template.Spec
		case *corev1.ConfigMap:
			configMaps[o.Name] = o
		}
	}
	// Mount the ConfigMap volumes where the container mounts them.
	fsys := files{}
	container := pod.Containers[0]
	for _, m := range container.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				for k, data := range configMaps[v.ConfigMap.Name].Data {
					fsys[m.MountPath+"/"+k] = []byte(data)
				}
			}
		}
	}
	if got := fsys["/etc/envoy/"+provision.BootstrapKey]; string(got) != string(rendered) {
		t.Fatalf("the mounted bootstrap is not RenderBootstrap(Bootstrap(...)):\n%s", got)
	}

	args, err := FromContainer(container.Command, container.Args)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(args, fsys.read)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(c.Bootstrap, want) {
		t.Errorf("Bootstrap differs from provision.Bootstrap:\n%v", c.Bootstrap)
	}
	if c.Node.GetId() != "kgateway-system/http" || c.Node.GetCluster() != "http" {
		t.Errorf("Node = %v", c.Node)
	}
	if c.Admin != netip.MustParseAddrPort("127.0.0.1:19000") {
		t.Errorf("Admin = %v", c.Admin)
	}
	wantADS := &ADS{
		Cluster:                "xds_cluster",
		Address:                "keyconform-controller.kgateway-system.svc.cluster.local:18000",
		NodeOnFirstMessageOnly: true,
		ConnectTimeout:         5 * time.Second,
		HTTP2Keepalive:         &corev3.KeepaliveSettings{Interval: durationpb.New(30 * time.Second), Timeout: durationpb.New(5 * time.Second)},
		LDSInitialFetchTimeout: 15 * time.Second,
		CDSInitialFetchTimeout: 15 * time.Second,
	}
	if diff := cmp.Diff(wantADS, c.ADS, adsOpts); diff != "" {
		t.Errorf("ADS (-want +got):\n%s", diff)
	}
	if c.ADS.TLS != nil {
		t.Errorf("ADS.TLS = %v, want plaintext", c.ADS.TLS)
	}
	if len(c.Listeners) != 1 || c.Listeners[0].GetName() != "ready" {
		t.Errorf("Listeners = %v", c.Listeners)
	}
	if len(c.Clusters) != 0 {
		t.Errorf("Clusters = %v, want none: xds_cluster is the ADS cluster", c.Clusters)
	}
	checkIgnored(t, c.Ignored, "--disable-hot-restart")
	if args.LogLevel != "info" {
		t.Errorf("LogLevel = %q", args.LogLevel)
	}
}

// egPKI is the certificates an Envoy Gateway data plane mounts: the
// client certificate at /certs/tls.crt, its key, and the CA.
type egPKI struct {
	ca    *testpki.CA
	files files
}

func newEGPKI(t *testing.T) egPKI {
	ca := testpki.NewCA(t, "envoy-gateway-ca")
	cert, key := ca.Issue(t, x509.ExtKeyUsageClientAuth, "envoy")
	return egPKI{ca: ca, files: files{
		"/certs/tls.crt":            cert,
		"/certs/tls.key":            key,
		"/certs/ca.crt":             ca.PEM,
		"/sds/xds-certificate.json": testdata(t, "envoy-gateway-shape-xds-certificate.json"),
		"/sds/xds-trusted-ca.json":  testdata(t, "envoy-gateway-shape-xds-trusted-ca.json"),
	}}
}

// egArgs is the container's args as Envoy Gateway writes them, $(VARS)
// expanded.
func egArgs(bootstrap string) []string {
	return []string{
		"--service-cluster", "eg-gw",
		"--service-node", "envoy-default-eg-gw-6d7f9-abcde",
		"--config-yaml", bootstrap,
		"--log-level", "warn",
		"--cpuset-threads",
		"--drain-strategy", "immediate",
		"--component-log-level", "misc:error",
		"--drain-time-s", "60",
	}
}

func loadEG(t *testing.T, pki egPKI) *Config {
	t.Helper()
	bootstrap := strings.ReplaceAll(string(testdata(t, "envoy-gateway-shape.yaml")), "ZONE", "zone-a")
	args, err := FromContainer([]string{"envoy"}, egArgs(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(args, pki.files.read)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoadEnvoyGatewayShape(t *testing.T) {
	pki := newEGPKI(t)
	c := loadEG(t, pki)
	if n := c.Node; n.GetId() != "envoy-default-eg-gw-6d7f9-abcde" || n.GetCluster() != "eg-gw" || n.GetLocality().GetZone() != "zone-a" {
		t.Errorf("Node = %v", n)
	}
	wantADS := &ADS{
		Delta:                  true,
		Cluster:                "xds_cluster",
		Address:                "envoy-gateway.envoy-gateway-system.svc.cluster.local.:18000",
		NodeOnFirstMessageOnly: true,
		ConnectTimeout:         10 * time.Second,
		HTTP2Keepalive:         &corev3.KeepaliveSettings{Interval: durationpb.New(30 * time.Second), Timeout: durationpb.New(5 * time.Second)},
	}
	if diff := cmp.Diff(wantADS, c.ADS, adsOpts); diff != "" {
		t.Errorf("ADS (-want +got):\n%s", diff)
	}
	if tc := c.ADS.TLS; tc == nil || tc.MinVersion != tls.VersionTLS12 || tc.MaxVersion != tls.VersionTLS13 || tc.ServerName != "" {
		t.Errorf("ADS.TLS = %+v, want TLS 1.2 to 1.3 (tls_params), no SNI", tc)
	}
	var clusters []string
	for _, cl := range c.Clusters {
		clusters = append(clusters, cl.GetName())
	}
	if !slices.Equal(clusters, []string{"stats_backend", "gw-one"}) {
		t.Errorf("Clusters = %v", clusters)
	}
	if len(c.Listeners) != 1 {
		t.Errorf("Listeners = %v", c.Listeners)
	}
	checkIgnored(t, c.Ignored,
		`--cpuset-threads`, `--drain-strategy "immediate"`, `--component-log-level "misc:error"`, `--drain-time-s "60"`,
		"admin.access_log", "cluster_manager.local_cluster_name", "deferred_stat_options", "stats_config", "overload_manager",
		"layered_runtime.layers[0].static_layer.re2.max_program_size.error_level",
		"layered_runtime.layers[0].static_layer.envoy.reloadable_features.oauth2_use_gcm_encryption",
	)

	t.Run("mTLS handshake with a server of the CA named envoy-gateway", func(t *testing.T) {
		sawClient, err := handshake(t, c.ADS.TLS, pki.ca.ServerCert(t, "envoy-gateway"), pki.ca)
		if err != nil {
			t.Fatal(err)
		}
		if !sawClient {
			t.Error("the server got no client certificate")
		}
	})
	t.Run("a server of another CA is refused", func(t *testing.T) {
		other := testpki.NewCA(t, "other-ca")
		if _, err := handshake(t, c.ADS.TLS, other.ServerCert(t, "envoy-gateway"), pki.ca); err == nil || !strings.Contains(err.Error(), "not trusted") {
			t.Fatalf("handshake error %v, want the server certificate not trusted", err)
		}
	})
	t.Run("a server of the CA without the subject alt name is refused", func(t *testing.T) {
		if _, err := handshake(t, c.ADS.TLS, pki.ca.ServerCert(t, "someone-else"), pki.ca); err == nil || !strings.Contains(err.Error(), "subject alt names") {
			t.Fatalf("handshake error %v, want a subject alt name mismatch", err)
		}
	})
}

func TestLoadKgatewayShape(t *testing.T) {
	bootstrap := testdata(t, "kgateway-shape.yaml")
	fsys := files{"/etc/envoy/envoy.yaml": bootstrap}
	// The Deployment's args: no command, so the image's entrypoint.
	podArgs := []string{"--disable-hot-restart", "--service-node", "gw-7d9c5-x2x4z.default", "--log-level", "info"}

	t.Run("args alone name no bootstrap", func(t *testing.T) {
		args, err := FromContainer(nil, podArgs)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Load(args, fsys.read)
		if err == nil || !strings.Contains(err.Error(), "--config-path (-c)") || !strings.Contains(err.Error(), "--config-yaml") {
			t.Fatalf("error %v, want one naming --config-path and --config-yaml", err)
		}
	})

	var loaded []*Config
	for _, form := range []struct {
		name    string
		command []string
	}{
		// What the envoyproxy/envoy image runs by default.
		{"-c /etc/envoy/envoy.yaml", []string{"/usr/local/bin/envoy", "-c", "/etc/envoy/envoy.yaml"}},
		// What kgateway's envoyinit runs: the file's contents inline.
		{"--config-yaml", []string{"/usr/local/bin/envoy", "--config-yaml", string(bootstrap)}},
	} {
		t.Run(form.name, func(t *testing.T) {
			args, err := FromContainer(form.command, podArgs)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Load(args, fsys.read)
			if err != nil {
				t.Fatal(err)
			}
			loaded = append(loaded, c)
			n := c.Node
			if n.GetId() != "gw-7d9c5-x2x4z.default" || n.GetCluster() != "gw.default" || n.GetMetadata().GetFields()["role"].GetStringValue() != "kgateway-kube-gateway-api~default~gw" {
				t.Errorf("Node = %v", n)
			}
			wantADS := &ADS{
				Cluster:                "xds_cluster",
				Address:                "kgateway.kgateway-system.svc.cluster.local:9977",
				ConnectTimeout:         5 * time.Second,
				TCPKeepalive:           &corev3.TcpKeepalive{KeepaliveTime: wrapperspb.UInt32(10)},
				LDSInitialFetchTimeout: 15 * time.Second,
				CDSInitialFetchTimeout: 15 * time.Second,
			}
			if diff := cmp.Diff(wantADS, c.ADS, adsOpts); diff != "" {
				t.Errorf("ADS (-want +got):\n%s", diff)
			}
			if c.ADS.TLS != nil {
				t.Errorf("ADS.TLS = %v, want plaintext", c.ADS.TLS)
			}
			if len(c.Listeners) != 1 || c.Listeners[0].GetName() != "readiness_listener" {
				t.Errorf("Listeners = %v", c.Listeners)
			}
			if len(c.Clusters) != 1 || c.Clusters[0].GetName() != "admin_port_cluster" {
				t.Errorf("Clusters = %v", c.Clusters)
			}
			checkIgnored(t, c.Ignored,
				"--disable-hot-restart",
				"dynamic_resources.ads_config.rate_limit_settings",
				"layered_runtime.layers[0].static_layer.envoy.restart_features.use_eds_cache_for_ads",
				"layered_runtime.layers[1].admin_layer",
				"static_resources.clusters[0].alt_stat_name",
				"static_resources.clusters[0].respect_dns_ttl",
			)
		})
	}
	if len(loaded) == 2 && !proto.Equal(loaded[0].Bootstrap, loaded[1].Bootstrap) {
		t.Error("-c and --config-yaml of the same file give different bootstraps")
	}
}

// --config-yaml merges over --config-path as protobuf MergeFrom, and the
// --service-* flags override both.
func TestLoadMergeAndOverride(t *testing.T) {
	file := `
node: {id: file-node, cluster: file-cluster, locality: {region: r1, zone: file-zone}}
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 19000}}}
static_resources:
  listeners:
  - name: a
    address: {socket_address: {address: 0.0.0.0, port_value: 8080}}
`
	inline := `
node: {id: yaml-node}
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 19100}}}
static_resources:
  listeners:
  - name: b
    address: {socket_address: {address: 0.0.0.0, port_value: 8081}}
`
	fsys := files{"/etc/envoy/envoy.yaml": []byte(file)}
	for _, tc := range []struct {
		name              string
		flags             []string
		id, cluster, zone string
	}{
		{"merged", nil, "yaml-node", "file-cluster", "file-zone"},
		{"overridden", []string{"--service-node", "cli-node", "--service-cluster", "cli-cluster", "--service-zone", "cli-zone"}, "cli-node", "cli-cluster", "cli-zone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args, err := ParseArgs(slices.Concat([]string{"-c", "/etc/envoy/envoy.yaml", "--config-yaml", inline}, tc.flags))
			if err != nil {
				t.Fatal(err)
			}
			c, err := Load(args, fsys.read)
			if err != nil {
				t.Fatal(err)
			}
			if n := c.Node; n.GetId() != tc.id || n.GetCluster() != tc.cluster || n.GetLocality().GetZone() != tc.zone || n.GetLocality().GetRegion() != "r1" {
				t.Errorf("Node = %v", n)
			}
			if c.Admin != netip.MustParseAddrPort("127.0.0.1:19100") {
				t.Errorf("Admin = %v, want --config-yaml's", c.Admin)
			}
			var names []string
			for _, l := range c.Listeners {
				names = append(names, l.GetName())
			}
			if !slices.Equal(names, []string{"a", "b"}) {
				t.Errorf("Listeners = %v, want the file's then --config-yaml's", names)
			}
			if c.ADS != nil {
				t.Errorf("ADS = %v without dynamic_resources", c.ADS)
			}
		})
	}
}

// The file's extension picks its format, as MessageUtil::loadFromFile.
func TestLoadFormats(t *testing.T) {
	// Not {id: n}: "n" is YAML 1.1's false, to yaml-cpp (Envoy) as here.
	const yamlDoc = "node: {id: node-1, cluster: c}\n"
	const jsonDoc = `{"node": {"id": "node-1", "cluster": "c"}}`
	for _, tc := range []struct {
		path, data, wantErr string
	}{
		{path: "/b.yaml", data: yamlDoc},
		{path: "/b.yml", data: yamlDoc},
		{path: "/b.YAML", data: yamlDoc},
		{path: "/b.json", data: jsonDoc},
		{path: "/bootstrap", data: jsonDoc},
		// No extension is JSON to Envoy, so YAML there is an error.
		{path: "/bootstrap", data: yamlDoc, wantErr: "--config-path /bootstrap: not an Envoy bootstrap"},
		{path: "/b.pb", data: "", wantErr: ".pb, .pb_text"},
		{path: "/b.pb_text", data: "node {}", wantErr: ".pb, .pb_text"},
		{path: "/b.yaml", data: "", wantErr: "--config-path /b.yaml: not an Envoy bootstrap: it is empty"},
	} {
		t.Run(fmt.Sprintf("%s %.10q", tc.path, tc.data), func(t *testing.T) {
			c, err := Load(Args{ConfigPath: tc.path}, files{tc.path: []byte(tc.data)}.read)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Node.GetId() != "node-1" {
				t.Errorf("Node = %v", c.Node)
			}
		})
	}
}
