package localenv

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestEndpointSlices(t *testing.T) {
	svc := func(ns, name string, selector map[string]string, ports ...corev1.ServicePort) corev1.Service {
		return corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       corev1.ServiceSpec{Selector: selector, Ports: ports},
		}
	}
	httpbinPod := func(ns, name, ip string) pod {
		return pod{
			Namespace: ns, Name: name, Labels: map[string]string{"app": "httpbin", "version": "v1"},
			IP:    netip.MustParseAddr(ip),
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			Ready: true,
		}
	}
	pods := []pod{
		httpbinPod("httpbin", "b", "10.244.0.11"),
		httpbinPod("httpbin", "a", "10.244.0.3"),
		httpbinPod("other", "c", "10.244.0.12"),
	}

	tests := []struct {
		name      string
		service   corev1.Service
		wantSlice bool
		wantPort  int32 // 0: no port entry
		wantIPs   []string
	}{
		{
			name:      "numeric target port, pods of the same namespace only, sorted by IP",
			service:   svc("httpbin", "httpbin", map[string]string{"app": "httpbin"}, corev1.ServicePort{Name: "http", Port: 8000, TargetPort: intstr.FromInt32(8080)}),
			wantSlice: true, wantPort: 8080, wantIPs: []string{"10.244.0.3", "10.244.0.11"},
		},
		{
			name:      "named target port resolved through container ports",
			service:   svc("httpbin", "named", map[string]string{"app": "httpbin"}, corev1.ServicePort{Name: "web", Port: 80, TargetPort: intstr.FromString("http")}),
			wantSlice: true, wantPort: 8080, wantIPs: []string{"10.244.0.3", "10.244.0.11"},
		},
		{
			name:      "unknown named target port is left out",
			service:   svc("httpbin", "badname", map[string]string{"app": "httpbin"}, corev1.ServicePort{Name: "web", Port: 80, TargetPort: intstr.FromString("grpc")}),
			wantSlice: true, wantPort: 0, wantIPs: []string{"10.244.0.3", "10.244.0.11"},
		},
		{
			name:      "unset target port means the service port",
			service:   svc("httpbin", "same", map[string]string{"app": "httpbin"}, corev1.ServicePort{Name: "http", Port: 8080}),
			wantSlice: true, wantPort: 8080, wantIPs: []string{"10.244.0.3", "10.244.0.11"},
		},
		{
			name:      "selector matching nothing gives an empty slice",
			service:   svc("httpbin", "none", map[string]string{"app": "nope"}, corev1.ServicePort{Name: "http", Port: 8000, TargetPort: intstr.FromInt32(8080)}),
			wantSlice: true, wantPort: 8080, wantIPs: nil,
		},
		{
			name:    "service without selector is not ours to manage",
			service: svc("httpbin", "external", nil, corev1.ServicePort{Name: "http", Port: 8000}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slices := endpointSlices([]corev1.Service{tt.service}, pods)
			if !tt.wantSlice {
				if len(slices) != 0 {
					t.Fatalf("got %d slices, want none", len(slices))
				}
				return
			}
			if len(slices) != 1 {
				t.Fatalf("got %d slices, want 1", len(slices))
			}
			s := slices[0]
			if got := s.Labels[discoveryv1.LabelServiceName]; got != tt.service.Name {
				t.Errorf("service-name label = %q, want %q", got, tt.service.Name)
			}
			if got := s.Labels[managedByLabel]; got != managedByValue {
				t.Errorf("managed-by label = %q, want %q", got, managedByValue)
			}
			switch {
			case tt.wantPort == 0 && len(s.Ports) != 0:
				t.Errorf("ports = %v, want none", s.Ports)
			case tt.wantPort != 0 && (len(s.Ports) != 1 || *s.Ports[0].Port != tt.wantPort || *s.Ports[0].Name != tt.service.Spec.Ports[0].Name):
				t.Errorf("ports = %+v, want one named %q on %d", s.Ports, tt.service.Spec.Ports[0].Name, tt.wantPort)
			}
			var ips []string
			for _, e := range s.Endpoints {
				if e.Conditions.Ready == nil || !*e.Conditions.Ready {
					t.Errorf("endpoint %v is not ready", e.Addresses)
				}
				ips = append(ips, e.Addresses...)
			}
			if len(ips) != len(tt.wantIPs) {
				t.Fatalf("endpoint IPs = %v, want %v", ips, tt.wantIPs)
			}
			for i := range ips {
				if ips[i] != tt.wantIPs[i] {
					t.Errorf("endpoint IPs = %v, want %v", ips, tt.wantIPs)
				}
			}
		})
	}
}

// A pod that is not ready yet is listed, marked not ready and not
// serving, as the EndpointSlice controller lists it: an implementation that
// reads EndpointSlices decides what to do with it.
func TestEndpointSlicesListPodsNotReady(t *testing.T) {
	svc := corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "edge", Name: "envoy"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "envoy"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}
	slices := endpointSlices([]corev1.Service{svc}, []pod{
		{Namespace: "edge", Name: "starting", Labels: map[string]string{"app": "envoy"}, IP: netip.MustParseAddr("10.244.0.9")},
	})
	if len(slices) != 1 || len(slices[0].Endpoints) != 1 {
		t.Fatalf("slices %+v, want one with one endpoint", slices)
	}
	c := slices[0].Endpoints[0].Conditions
	if c.Ready == nil || *c.Ready || c.Serving == nil || *c.Serving {
		t.Errorf("conditions %+v, want not ready and not serving", c)
	}
}

func TestIPAllocatorNeverReusesAndStopsAtTheEnd(t *testing.T) {
	a := newIPAllocator(netip.MustParsePrefix("10.244.0.0/30"))
	first, err := a.next()
	if err != nil || first != netip.MustParseAddr("10.244.0.2") {
		t.Fatalf("first = %v, %v; want 10.244.0.2", first, err)
	}
	second, err := a.next()
	if err != nil || second != netip.MustParseAddr("10.244.0.3") {
		t.Fatalf("second = %v, %v; want 10.244.0.3", second, err)
	}
	if ip, err := a.next(); err == nil {
		t.Fatalf("third = %v, want exhaustion error", ip)
	}
}
