package localenv

import (
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	envoycorev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/keyconform/keyconform/internal/testpki"
	"github.com/keyconform/keyconform/internal/xdstest"
)

var (
	//go:embed testdata/envoy-gateway-bootstrap.yaml
	envoyGatewayBootstrap string
	//go:embed testdata/kgateway-bootstrap.yaml
	kgatewayBootstrap string
)

// byCluster keys snapshots by node cluster: a pod's node id is its name,
// which the test does not know in advance.
type byCluster struct{}

func (byCluster) ID(n *envoycorev3.Node) string { return n.GetCluster() }

// listenerSnapshot is what each control plane serves: one listener on
// port answering every request with body, and a cluster nothing routes to
// (state-of-the-world servers answer no type they hold nothing of, and
// Envoy waits for its first clusters).
func listenerSnapshot(t *testing.T, srv *xdstest.Server, cluster string, port uint32, body string) {
	t.Helper()
	srv.Set(t, cluster, "1",
		xdstest.Listener(t, port),
		xdstest.RouteConfig(port, xdstest.VirtualHost(port, "*", xdstest.DirectResponse("all", "/", http.StatusOK, body))),
		xdstest.Cluster("unused"), xdstest.Endpoints(t, "unused", "10.244.255.254:80"))
}

// TestImplementationsEnvoyPods runs Envoy Deployments shaped as Envoy
// Gateway's and kgateway's controllers create them, each configured only
// from its pod spec: command line, environment, bootstrap and certificates
// from its volumes. Their control planes are processes of this machine
// published as the Services their bootstraps name. Each pod must connect
// (delta ADS over mutual TLS for Envoy Gateway's, state of the world in
// plaintext for kgateway's), become Ready, and serve what it was sent
// through its LoadBalancer Service.
func TestImplementationsEnvoyPods(t *testing.T) {
	env := startEnv(t, Options{})
	ctx := t.Context()
	c := env.Client()

	ca := testpki.NewCA(t, "envoy-gateway")
	serverCert := ca.ServerCert(t, "envoy-gateway")
	clientCertPEM, clientKeyPEM := ca.Issue(t, x509.ExtKeyUsageClientAuth, "envoy")
	eg := xdstest.StartWith(t, xdstest.Options{Hash: byCluster{}, TLS: &tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool(),
		MinVersion:   tls.VersionTLS12,
	}})
	kg := xdstest.StartWith(t, xdstest.Options{Hash: byCluster{}})
	listenerSnapshot(t, eg, "default/eg", 10080, "served by the Envoy Gateway-shaped pod")
	listenerSnapshot(t, kg, "http.edge", 8080, "served by the kgateway-shaped pod")
	for svc, srv := range map[types.NamespacedName]*xdstest.Server{
		{Namespace: "envoy-gateway-system", Name: "envoy-gateway"}: eg,
		{Namespace: "kgateway-system", Name: "kgateway"}:           kg,
	} {
		port := int32(18000)
		if svc.Name == "kgateway" {
			port = 9977
		}
		if err := env.PublishHostService(ctx, svc, port, netip.MustParseAddrPort(srv.Addr())); err != nil {
			t.Fatal(err)
		}
	}

	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	sdsCert := `{"resources":[{"@type":"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret","name":"xds_certificate",` +
		`"tls_certificate":{"certificate_chain":{"filename":"/certs/tls.crt"},"private_key":{"filename":"/certs/tls.key"}}}]}`
	sdsCA := `{"resources":[{"@type":"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret","name":"xds_trusted_ca",` +
		`"validation_context":{"trusted_ca":{"filename":"/certs/ca.crt"},"match_typed_subject_alt_names":[{"san_type":"DNS","matcher":{"exact":"envoy-gateway"}}]}}]}`
	egNS := "envoy-gateway-system"
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "edge"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: egNS, Name: "envoy"}, Data: map[string][]byte{
			"tls.crt": clientCertPEM, "tls.key": clientKeyPEM, "ca.crt": ca.PEM,
		}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: egNS, Name: "envoy-default-eg"}, Data: map[string]string{
			"xds-certificate.json": sdsCert, "xds-trusted-ca.json": sdsCA,
		}},
		envoyDeployment(egNS, "envoy-default-eg", corev1.Container{
			Name:    "envoy",
			Image:   "docker.io/envoyproxy/envoy:distroless-v1.39.1",
			Command: []string{"envoy"},
			Args: []string{"--service-cluster", "default/eg", "--service-node", "$(ENVOY_POD_NAME)",
				"--config-yaml", envoyGatewayBootstrap, "--log-level", "warn", "--cpuset-threads", "--drain-strategy", "immediate", "--drain-time-s", "60"},
			Env: []corev1.EnvVar{field("ENVOY_POD_NAME", "metadata.name"), field("ENVOY_POD_NAMESPACE", "metadata.namespace"),
				field("ENVOY_SERVICE_ZONE", "metadata.annotations['topology.kubernetes.io/zone']")},
			Ports:        []corev1.ContainerPort{{Name: "http-80", ContainerPort: 10080}},
			VolumeMounts: []corev1.VolumeMount{{Name: "certs", MountPath: "/certs", ReadOnly: true}, {Name: "sds", MountPath: "/sds"}},
		}, []corev1.Volume{
			{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "envoy"}}},
			{Name: "sds", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "envoy-default-eg"},
				Items:                []corev1.KeyToPath{{Key: "xds-trusted-ca.json", Path: "xds-trusted-ca.json"}, {Key: "xds-certificate.json", Path: "xds-certificate.json"}},
			}}},
		}),
		loadBalancerService(egNS, "envoy-default-eg", map[int32]int32{80: 10080}),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "edge", Name: "http"}, Data: map[string]string{"envoy.yaml": kgatewayBootstrap}},
		envoyDeployment("edge", "http", corev1.Container{
			Name:         "kgateway-proxy",
			Image:        "cr.kgateway.dev/kgateway-dev/envoy-wrapper:v2.1.0",
			Args:         []string{"--disable-hot-restart", "--service-node", "$(POD_NAME).$(POD_NAMESPACE)", "--log-level", "info"},
			Env:          []corev1.EnvVar{field("POD_NAME", "metadata.name"), field("POD_NAMESPACE", "metadata.namespace"), {Name: "ENVOY_UID", Value: "0"}},
			Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "readiness", ContainerPort: 8082}},
			VolumeMounts: []corev1.VolumeMount{{Name: "envoy-config", MountPath: "/etc/envoy"}},
		}, []corev1.Volume{{Name: "envoy-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "http"},
		}}}}),
		loadBalancerService("edge", "http", map[int32]int32{8080: 8080, 8082: 8082}),
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); client.IgnoreAlreadyExists(err) != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}

	for _, tc := range []struct {
		svc        types.NamespacedName
		port       int
		path, want string
	}{
		{types.NamespacedName{Namespace: egNS, Name: "envoy-default-eg"}, 80, "/", "served by the Envoy Gateway-shaped pod"},
		{types.NamespacedName{Namespace: "edge", Name: "http"}, 8080, "/", "served by the kgateway-shaped pod"},
		// The readiness listener routes to the admin interface on the
		// pod's own loopback, which answers with the server state.
		{types.NamespacedName{Namespace: "edge", Name: "http"}, 8082, "/ready", "LIVE\n"},
	} {
		var ip string
		waitFor(t, tc.svc.String()+" load balancer address", func() error {
			var svc corev1.Service
			if err := c.Get(ctx, tc.svc, &svc); err != nil {
				return err
			}
			if len(svc.Status.LoadBalancer.Ingress) == 0 {
				return fmt.Errorf("no ingress yet")
			}
			ip = svc.Status.LoadBalancer.Ingress[0].IP
			return nil
		})
		url := fmt.Sprintf("http://%s%s", net.JoinHostPort(ip, fmt.Sprint(tc.port)), tc.path)
		waitFor(t, "GET "+url, func() error {
			resp, err := http.Get(url)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(b) != tc.want {
				return fmt.Errorf("%d %q, want 200 %q", resp.StatusCode, b, tc.want)
			}
			return nil
		})
	}

	// The node the control plane saw is the one the pod's command line
	// (--service-node $(POD_NAME).$(POD_NAMESPACE), expanded as the kubelet
	// does) and bootstrap (cluster, metadata) describe.
	req := kg.WaitRequest(t, 10*time.Second, "a request from the kgateway-shaped pod's node", func(r *discoveryv3.DiscoveryRequest) bool {
		return r.GetNode().GetCluster() == "http.edge"
	})
	n := req.GetNode()
	podName, ok := strings.CutSuffix(n.GetId(), ".edge")
	var pod corev1.Pod
	if !ok || c.Get(ctx, types.NamespacedName{Namespace: "edge", Name: podName}, &pod) != nil {
		t.Errorf("node id %q: want <pod name>.edge of a pod of Deployment http", n.GetId())
	}
	if role := n.GetMetadata().GetFields()["role"].GetStringValue(); role != "kgateway-kube-gateway-api~edge~http" {
		t.Errorf("node metadata role %q, want the bootstrap's", role)
	}
}

func envoyDeployment(ns, name string, c corev1.Container, vols []corev1.Volume) *appsv1.Deployment {
	labels := map[string]string{"app.kubernetes.io/name": "envoy", "app.kubernetes.io/instance": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{c}, Volumes: vols},
			},
		},
	}
}

func loadBalancerService(ns, name string, ports map[int32]int32) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app.kubernetes.io/name": "envoy", "app.kubernetes.io/instance": name},
		},
	}
	for port, target := range ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
			Name: fmt.Sprintf("p%d", port), Port: port, TargetPort: intstr.FromInt32(target), Protocol: corev1.ProtocolTCP,
		})
	}
	return svc
}
