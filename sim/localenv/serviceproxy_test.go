package localenv

import (
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestServiceTables(t *testing.T) {
	svc := func(ns, name, ip string, ports ...corev1.ServicePort) corev1.Service {
		return corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: ports}}
	}
	slice := func(ns, svc string, port int32, eps ...discoveryv1.Endpoint) discoveryv1.EndpointSlice {
		return discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svc + "-x", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
			Ports:      []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(port)}},
			Endpoints:  eps,
		}
	}
	ep := func(ip string, ready *bool) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ready}}
	}
	hosts, vips := serviceTables(
		[]corev1.Service{
			svc("edge", "web", "10.96.0.10", corev1.ServicePort{Name: "http", Port: 80}, corev1.ServicePort{Name: "other", Port: 81}),
			svc("edge", "headless", "None", corev1.ServicePort{Name: "http", Port: 80}),
			svc("other", "web", "10.96.0.11", corev1.ServicePort{Name: "http", Port: 80}),
		},
		[]discoveryv1.EndpointSlice{
			slice("edge", "web", 8080, ep("10.244.0.5", ptr.To(true)), ep("10.244.0.6", ptr.To(false)), ep("10.244.0.7", nil)),
			slice("edge", "headless", 8080, ep("10.244.0.8", ptr.To(true))),
		},
	)
	for name, want := range map[string]string{
		"web.edge.svc.cluster.local": "10.96.0.10", "web.edge.svc": "10.96.0.10", "web.edge": "10.96.0.10",
		"web.other.svc.cluster.local": "10.96.0.11",
	} {
		if got := hosts[name]; got.String() != want {
			t.Errorf("host %s = %v, want %s", name, got, want)
		}
	}
	if _, ok := hosts["headless.edge.svc.cluster.local"]; ok {
		t.Error("a headless Service got a cluster IP entry")
	}
	got := vips[netip.MustParseAddrPort("10.96.0.10:80")]
	want := []netip.AddrPort{netip.MustParseAddrPort("10.244.0.5:8080"), netip.MustParseAddrPort("10.244.0.7:8080")}
	if !slices.Equal(got, want) {
		t.Errorf("web:80 endpoints %v, want the ready ones (and those of unknown readiness) %v", got, want)
	}
	if eps := vips[netip.MustParseAddrPort("10.96.0.10:81")]; len(eps) != 0 {
		t.Errorf("a Service port no slice serves has endpoints %v", eps)
	}
	if eps := vips[netip.MustParseAddrPort("10.96.0.11:80")]; len(eps) != 0 {
		t.Errorf("another namespace's Service of the same name got endpoints %v", eps)
	}
}
