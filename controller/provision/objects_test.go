package provision

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/internal/golden"
)

// gateway builds a Gateway as the API server returns it (with a UID).
func gateway(ns, name string, ports ...int32) *gwv1.Gateway {
	gw := &gwv1.Gateway{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "Gateway"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: "6d1c3f9e-0000-4000-8000-000000000001"},
		Spec:       gwv1.GatewaySpec{GatewayClassName: "kgateway"},
	}
	for i, p := range ports {
		gw.Spec.Listeners = append(gw.Spec.Listeners, gwv1.Listener{
			Name: gwv1.SectionName(fmt.Sprintf("l%d", i)), Protocol: gwv1.HTTPProtocolType, Port: gwv1.PortNumber(p),
		})
	}
	return gw
}

// objectCases are the Gateways whose data planes are golden files and
// are dry-run against the API server.
var objectCases = []struct {
	name string
	gw   *gwv1.Gateway
	cfg  func(*Config)
}{
	// The seed's Gateway, as fixtures/sample-app declares it.
	{"seed", gateway("kgateway-system", "http", 8080), func(*Config) {}},
	// Port 80, two listeners sharing 8080 (by hostname), NodePort.
	{"several-listeners-nodeport", gateway("team-a", "edge", 8443, 8080, 80, 8080), func(c *Config) { c.ServiceType = corev1.ServiceTypeNodePort }},
}

// render is the golden form: what the reconciler applies.
func render(t *testing.T, objs []client.Object) []byte {
	t.Helper()
	var out bytes.Buffer
	for i, obj := range objs {
		u, err := ApplyForm(obj)
		if err != nil {
			t.Fatal(err)
		}
		y, err := yaml.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(y)
	}
	return out.Bytes()
}

func TestObjectsGolden(t *testing.T) {
	for _, tc := range objectCases {
		t.Run(tc.name, func(t *testing.T) {
			objs := caseObjects(t, tc.gw, tc.cfg)
			golden.Compare(t, filepath.Join("testdata", "objects-"+tc.name+".golden.yaml"), render(t, objs), nil)
		})
	}
}

// The contract between the objects, which a golden file shows but does
// not explain.
func TestObjectsFitTogether(t *testing.T) {
	for _, tc := range objectCases {
		t.Run(tc.name, func(t *testing.T) {
			objs := caseObjects(t, tc.gw, tc.cfg)
			sa, cm, svc, deploy := objs[0].(*corev1.ServiceAccount), objs[1].(*corev1.ConfigMap), objs[2].(*corev1.Service), objs[3].(*appsv1.Deployment)
			for _, obj := range objs {
				if obj.GetName() != tc.gw.Name || obj.GetNamespace() != tc.gw.Namespace {
					t.Errorf("%T %s/%s: want the Gateway's name and namespace", obj, obj.GetNamespace(), obj.GetName())
				}
				ref := metav1.GetControllerOf(obj)
				if ref == nil || ref.UID != tc.gw.UID || ref.Kind != "Gateway" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
					t.Errorf("%T: controller reference %+v, want the Gateway, blocking its deletion", obj, ref)
				}
				if !provisionedFor(obj, tc.gw.Name) {
					t.Errorf("%T does not count as provisioned for its Gateway", obj)
				}
			}
			pod := deploy.Spec.Template
			sel, err := metav1.LabelSelectorAsSelector(deploy.Spec.Selector)
			if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
				t.Errorf("Deployment selector %v does not match its pods' labels %v", deploy.Spec.Selector, pod.Labels)
			}
			if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
				t.Errorf("Service selector %v does not match the pods' labels %v", svc.Spec.Selector, pod.Labels)
			}
			if pod.Labels[GatewayNameLabel] != tc.gw.Name {
				t.Errorf("pods lack %s=%s, which the suites' port-forward looks for", GatewayNameLabel, tc.gw.Name)
			}
			if pod.Spec.ServiceAccountName != sa.Name || pod.Spec.Volumes[0].ConfigMap.Name != cm.Name {
				t.Errorf("pods use ServiceAccount %q and ConfigMap %q, want the provisioned ones", pod.Spec.ServiceAccountName, pod.Spec.Volumes[0].ConfigMap.Name)
			}
			cfg := DefaultConfig()
			tc.cfg(&cfg)
			c := pod.Spec.Containers[0]
			if c.Image != cfg.EnvoyImage || c.ReadinessProbe.HTTPGet.Path != "/ready" {
				t.Errorf("container image %q, readiness %v", c.Image, c.ReadinessProbe.HTTPGet)
			}
			containerPorts := map[int32]bool{}
			for _, p := range c.Ports {
				containerPorts[p.ContainerPort] = true
			}
			listeners := map[int32]bool{}
			for _, l := range tc.gw.Spec.Listeners {
				listeners[int32(l.Port)] = true
			}
			if len(svc.Spec.Ports) != len(listeners) {
				t.Errorf("Service has %d ports for %d distinct listener ports", len(svc.Spec.Ports), len(listeners))
			}
			for _, p := range svc.Spec.Ports {
				if !listeners[p.Port] || !containerPorts[p.TargetPort.IntVal] {
					t.Errorf("Service port %d -> %v: want a listener port served by a container port", p.Port, p.TargetPort)
				}
			}
			b, err := Bootstrap(client.ObjectKeyFromObject(tc.gw), cfg)
			if err != nil {
				t.Fatal(err)
			}
			want, err := RenderBootstrap(b)
			if err != nil {
				t.Fatal(err)
			}
			if cm.Data[BootstrapKey] != string(want) {
				t.Errorf("ConfigMap holds another bootstrap:\n%s", cm.Data[BootstrapKey])
			}
			if svc.Spec.Type != cfg.ServiceType {
				t.Errorf("Service type %s, want %s", svc.Spec.Type, cfg.ServiceType)
			}
		})
	}
}

// Envoy reads its bootstrap once: a new bootstrap must change the pod
// template (so the pods roll), and the same inputs must not.
func TestBootstrapChangeRollsPods(t *testing.T) {
	hash := func(cfg Config) string {
		objs, err := Objects(gateway("kgateway-system", "http", 8080), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return objs[3].(*appsv1.Deployment).Spec.Template.Annotations[bootstrapHashAnnotation]
	}
	cfg := DefaultConfig()
	first := hash(cfg)
	if first == "" || hash(cfg) != first {
		t.Fatalf("bootstrap hash %q is missing or unstable", first)
	}
	cfg.XDSAddress = "other.kgateway-system.svc.cluster.local:18000"
	if hash(cfg) == first {
		t.Error("a new xDS address left the pod template unchanged: running pods would keep the old bootstrap")
	}
}

func TestObjectsRejectBadGateways(t *testing.T) {
	cases := []struct {
		name string
		gw   *gwv1.Gateway
		want []string
	}{
		{"name with a dot", gateway("ns", "edge.v1", 8080), []string{"Gateway ns/edge.v1", "must be a DNS-1035 label", "rename the Gateway"}},
		{"name starting with a digit", gateway("ns", "1edge", 8080), []string{"Gateway ns/1edge", "DNS-1035"}},
		{"name longer than 63", gateway("ns", strings.Repeat("a", 64), 8080), []string{"DNS-1035", "at most 63"}},
		{"admin port", gateway("ns", "edge", 8080, 19000), []string{`listener "l1" uses port 19000`, "choose another port"}},
		{"ready port", gateway("ns", "edge", 19001), []string{`listener "l0" uses port 19001`, "readiness probe (19001)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Objects(tc.gw, DefaultConfig())
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}

// caseObjects provisions gw under the default config as changed by cfg.
func caseObjects(t *testing.T, gw *gwv1.Gateway, cfg func(*Config)) []client.Object {
	t.Helper()
	c := DefaultConfig()
	cfg(&c)
	objs, err := Objects(gw, c)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}
