package provision

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestServiceAddresses(t *testing.T) {
	ip, host := gwv1.IPAddressType, gwv1.HostnameAddressType
	cases := []struct {
		name string
		spec corev1.ServiceSpec
		lb   []corev1.LoadBalancerIngress
		want []gwv1.GatewayStatusAddress
	}{
		{"pending load balancer: nothing", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.96.0.7", ClusterIPs: []string{"10.96.0.7"}}, nil, nil},
		{"ClusterIP Service: its cluster IP", corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.7", ClusterIPs: []string{"10.96.0.7"}}, nil,
			[]gwv1.GatewayStatusAddress{{Type: &ip, Value: "10.96.0.7"}}},
		{"dual stack cluster IPs", corev1.ServiceSpec{ClusterIP: "10.96.0.7", ClusterIPs: []string{"10.96.0.7", "fd00::7"}}, nil,
			[]gwv1.GatewayStatusAddress{{Type: &ip, Value: "10.96.0.7"}, {Type: &ip, Value: "fd00::7"}}},
		{"load balancer IP wins over the cluster IP", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.96.0.7"}, []corev1.LoadBalancerIngress{{IP: "192.0.2.10"}},
			[]gwv1.GatewayStatusAddress{{Type: &ip, Value: "192.0.2.10"}}},
		{"load balancer hostname, duplicates dropped", corev1.ServiceSpec{ClusterIP: "10.96.0.7"},
			[]corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}, {IP: "192.0.2.10", Hostname: "lb.example.com"}},
			[]gwv1.GatewayStatusAddress{{Type: &host, Value: "lb.example.com"}, {Type: &ip, Value: "192.0.2.10"}}},
		{"headless: nothing", corev1.ServiceSpec{ClusterIP: "None", ClusterIPs: []string{"None"}}, nil, nil},
		{"not allocated yet: nothing", corev1.ServiceSpec{}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := &corev1.Service{Spec: tc.spec, Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: tc.lb}}}
			got := ServiceAddresses(svc)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d addresses %v, want %v", len(got), values(got), values(tc.want))
			}
			for i := range got {
				if *got[i].Type != *tc.want[i].Type || got[i].Value != tc.want[i].Value {
					t.Errorf("address %d: %s %s, want %s %s", i, *got[i].Type, got[i].Value, *tc.want[i].Type, tc.want[i].Value)
				}
			}
		})
	}
}

func values(as []gwv1.GatewayStatusAddress) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Value)
	}
	return out
}

// A Service is used for a Gateway's address only if this controller made
// it for that Gateway.
func TestProvisionedFor(t *testing.T) {
	owner := func(apiVersion, kind, name string, controller bool) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: "u", Controller: ptr.To(controller)}}
	}
	mine := map[string]string{ManagedByLabel: ManagedBy}
	cases := []struct {
		name   string
		labels map[string]string
		owners []metav1.OwnerReference
		want   bool
	}{
		{"ours", mine, owner("gateway.networking.k8s.io/v1", "Gateway", "http", true), true},
		{"ours, owner written as v1beta1", mine, owner("gateway.networking.k8s.io/v1beta1", "Gateway", "http", true), true},
		{"without our label", nil, owner("gateway.networking.k8s.io/v1", "Gateway", "http", true), false},
		{"another Gateway's", mine, owner("gateway.networking.k8s.io/v1", "Gateway", "other", true), false},
		{"owned, not controlled", mine, owner("gateway.networking.k8s.io/v1", "Gateway", "http", false), false},
		{"another kind named alike", mine, owner("example.com/v1", "Gateway", "http", true), false},
		{"no owner", mine, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "http", Labels: tc.labels, OwnerReferences: tc.owners}}
			if got := provisionedFor(svc, "http"); got != tc.want {
				t.Errorf("provisionedFor = %v, want %v", got, tc.want)
			}
		})
	}
}
