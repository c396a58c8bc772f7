package targets

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestConfigValidate(t *testing.T) {
	kindCfg := func(k KindConfig) KindConfig {
		if k.Provider == "" {
			k.Provider = ProviderDocker
		}
		return k
	}
	kind := func(class, impl string, k KindConfig) Config {
		return Config{Target: Kind, GatewayClass: class, Implementation: impl, GatewayAddress: AddressPortForward, Kind: kindCfg(k)}
	}
	tests := []struct {
		cfg     Config
		wantErr string
	}{
		{Config{Target: Sim, GatewayClass: SimGatewayClass, Implementation: "kgateway"}, ""},
		{Config{Target: Sim, GatewayClass: "eg", Implementation: "kgateway"}, "serves GatewayClass"},
		{Config{Target: Sim, GatewayClass: "eg", Implementation: "envoy-gateway"}, ""},
		{Config{Target: Sim, GatewayClass: SimGatewayClass, Implementation: "envoy-gateway"}, `serves GatewayClass "eg"`},
		{Config{Target: Sim, GatewayClass: SimGatewayClass, Implementation: "nginx"}, "runs kgateway (the reference controller) or envoy-gateway"},
		{Config{Target: Cluster, GatewayClass: "kgateway", GatewayAddress: AddressFromStatus}, ""},
		{Config{Target: Cluster, GatewayAddress: AddressFromStatus}, "--gateway-class is empty"},
		{Config{Target: Kind, GatewayClass: "kgateway"}, "--gateway-address is empty"},
		{kind("kgateway", "", KindConfig{DeployDir: "/a"}), ""},
		{kind("kgateway", "", KindConfig{DeployDir: "/a", Provider: "nerdctl"}), `--kind-provider="nerdctl": want docker or podman`},
		{kind("kgateway", "", KindConfig{DeployDir: "/a", ConfigFile: "/no/such/kind.yaml"}), "--kind-config"},
		{kind("kgateway", "", KindConfig{DeployDir: "/a", ChartVersion: "v1"}), "--kind-chart-version=v1"},
		{kind("eg", "envoy-gateway", KindConfig{Install: InstallEnvoyGateway, Provider: ProviderPodman}), ""},
		{kind("kgateway", "kgateway", KindConfig{Install: InstallKGateway, ChartVersion: "v2.3.0"}), ""},
		{kind("kgateway", "nginx", KindConfig{Install: "nginx"}), `--kind-install="nginx": want one of envoy-gateway, kgateway`},
		{kind("kgateway", "envoy-gateway", KindConfig{Install: InstallEnvoyGateway}), `serves GatewayClass "eg"`},
		{kind("eg", "kgateway", KindConfig{Install: InstallEnvoyGateway}), "--implementation=kgateway: the installed implementation is envoy-gateway"},
		{kind("eg", "envoy-gateway", KindConfig{Install: InstallEnvoyGateway, DeployDir: "/a"}), "drop one of them"},
		{Config{Target: "minikube"}, `--target="minikube"`},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.cfg, err, tt.wantErr)
		}
	}
}

func TestDeployManifestsSaysWhatIsMissing(t *testing.T) {
	empty := t.TempDir()
	_, err := deployManifests(filepath.Join(empty, "deploy"))
	if err == nil || !strings.Contains(err.Error(), "no deploy manifests") || !strings.Contains(err.Error(), "--target=sim") {
		t.Errorf("missing folder: %v", err)
	}
	kust := t.TempDir()
	for _, f := range []string{"kustomization.yaml", "controller.yaml"} {
		if err := os.WriteFile(filepath.Join(kust, f), []byte("kind: X\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := deployManifests(kust); err == nil || !strings.Contains(err.Error(), "kustomization") {
		t.Errorf("kustomization: %v", err)
	}
	plain := t.TempDir()
	for _, f := range []string{"20-controller.yaml", "10-namespace.yaml"} {
		if err := os.WriteFile(filepath.Join(plain, f), []byte("kind: X\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := deployManifests(plain)
	if err != nil || len(files) != 2 || filepath.Base(files[0]) != "10-namespace.yaml" {
		t.Errorf("plain folder: %v, %v (want name order)", files, err)
	}
}

func TestForwardTarget(t *testing.T) {
	ready := corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	pod := func(name string, status corev1.PodStatus) corev1.Pod {
		p := corev1.Pod{Status: status}
		p.Name = name
		p.Spec.Containers = []corev1.Container{{Name: "envoy", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 10080}}}}
		return p
	}
	svc := func(target intstr.IntOrString) corev1.Service {
		return corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080, TargetPort: target}}}}
	}
	tests := []struct {
		name     string
		svc      corev1.Service
		pods     []corev1.Pod
		port     uint32
		wantPod  string
		wantPort int32
	}{
		{"numeric target", svc(intstr.FromInt32(9080)), []corev1.Pod{pod("a", ready)}, 8080, "a", 9080},
		{"named target", svc(intstr.FromString("http")), []corev1.Pod{pod("a", ready)}, 8080, "a", 10080},
		{"unset target is the port", svc(intstr.IntOrString{}), []corev1.Pod{pod("a", ready)}, 8080, "a", 8080},
		{"skips unready pods", svc(intstr.FromInt32(9080)), []corev1.Pod{pod("a", corev1.PodStatus{}), pod("b", ready)}, 8080, "b", 9080},
		{"no such service port", svc(intstr.FromInt32(9080)), []corev1.Pod{pod("a", ready)}, 80, "", 0},
		{"no ready pod", svc(intstr.FromInt32(9080)), []corev1.Pod{pod("a", corev1.PodStatus{})}, 8080, "", 0},
		{"named port nowhere", svc(intstr.FromString("admin")), []corev1.Pod{pod("a", ready)}, 8080, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotPod, gotPort, err := forwardTarget(tt.svc, tt.pods, tt.port)
			if tt.wantPod == "" {
				if err == nil {
					t.Errorf("got %s:%d, want an error", gotPod, gotPort)
				}
				return
			}
			if err != nil || gotPod != tt.wantPod || gotPort != tt.wantPort {
				t.Errorf("got %s:%d (%v), want %s:%d", gotPod, gotPort, err, tt.wantPod, tt.wantPort)
			}
		})
	}
}

func TestHandleRoundTrip(t *testing.T) {
	h := Handle{Target: Cluster, Kubeconfig: "/tmp/kc", Context: "ctx", GatewayClass: "kgateway", GatewayAddress: "port-forward",
		Dialect: "envoy-gateway", PublishedFeatures: []string{"HTTPRoute", "APIKeyAuthQuerySource"}}
	data, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeHandle(data)
	if err != nil || !reflect.DeepEqual(got, h) {
		t.Errorf("round trip = %+v, %v", got, err)
	}
}

// TestServiceOfAGateway finds a Gateway's Service as implementations
// provision it: in the Gateway's namespace, or in their own with a label
// naming the Gateway's namespace (Envoy Gateway), never one of a namesake
// Gateway of another namespace.
func TestServiceOfAGateway(t *testing.T) {
	svc := func(ns, name string, labels map[string]string) corev1.Service {
		return corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
	}
	gw := types.NamespacedName{Namespace: "scenario-a", Name: "gw"}
	owning := "gateway.envoyproxy.io/owning-gateway-namespace"
	tests := []struct {
		name     string
		services []corev1.Service
		want     string // namespace/name; empty for none
		wantErr  string
	}{
		{"same namespace", []corev1.Service{svc("scenario-b", "gw", nil), svc("scenario-a", "gw-svc", nil)}, "scenario-a/gw-svc", ""},
		{"implementation's namespace", []corev1.Service{
			svc("envoy-gateway-system", "envoy-scenario-b-gw", map[string]string{owning: "scenario-b"}),
			svc("envoy-gateway-system", "envoy-scenario-a-gw", map[string]string{owning: "scenario-a"}),
		}, "envoy-gateway-system/envoy-scenario-a-gw", ""},
		{"only a namesake", []corev1.Service{svc("scenario-b", "gw", nil)}, "", ""},
		{"ambiguous", []corev1.Service{
			svc("x", "one", map[string]string{owning: "scenario-a"}), svc("y", "two", map[string]string{owning: "scenario-a"}),
		}, "", "several Services"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := serviceOf(gw, tt.services)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tt.want == "" && got != nil:
				t.Fatalf("got %s/%s, want none", got.Namespace, got.Name)
			case tt.want != "" && (got == nil || got.Namespace+"/"+got.Name != tt.want):
				t.Fatalf("got %v, want %s", got, tt.want)
			}
		})
	}
}
