package provision

import (
	"context"
	"net"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/reconcile"
)

// Addresses reports each Gateway's addresses from the Service provisioned
// for it, read through reader (the manager's cache, which the reconcile
// package keeps for Services: a load balancer address arriving triggers a
// translation and so a status update). A Service of the same name that
// this controller did not provision for that Gateway is not used.
func Addresses(reader client.Reader) reconcile.AddressSource {
	return func(gw types.NamespacedName) []gwv1.GatewayStatusAddress {
		var svc corev1.Service
		// The cache answers from memory; the source has no context of its own.
		if err := reader.Get(context.Background(), gw, &svc); err != nil {
			return nil
		}
		if !provisionedFor(&svc, gw.Name) {
			return nil
		}
		return ServiceAddresses(&svc)
	}
}

// ServiceAddresses are the addresses clients reach svc at: a LoadBalancer
// Service's load balancer IPs and hostnames, none while it has none (the
// Gateway is then not Programmed, reason AddressNotAssigned, as Envoy
// Gateway reports it: a cluster IP would send clients outside the cluster
// to an address they cannot reach), and another Service's cluster IPs.
func ServiceAddresses(svc *corev1.Service) []gwv1.GatewayStatusAddress {
	var out []gwv1.GatewayStatusAddress
	add := func(t gwv1.AddressType, v string) {
		a := gwv1.GatewayStatusAddress{Type: &t, Value: v}
		if v != "" && !slices.ContainsFunc(out, func(b gwv1.GatewayStatusAddress) bool { return *b.Type == t && b.Value == v }) {
			out = append(out, a)
		}
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		add(gwv1.IPAddressType, in.IP)
		add(gwv1.HostnameAddressType, in.Hostname)
	}
	if len(out) > 0 || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		return out
	}
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, ip := range ips {
		if net.ParseIP(ip) != nil {
			add(gwv1.IPAddressType, ip)
		}
	}
	return out
}

// provisionedFor says obj carries this controller's label and has the
// Gateway named gateway as controlling owner.
func provisionedFor(obj metav1.Object, gateway string) bool {
	ref := metav1.GetControllerOf(obj)
	if obj.GetLabels()[ManagedByLabel] != ManagedBy || ref == nil {
		return false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == gwv1.GroupName && ref.Kind == "Gateway" && ref.Name == gateway
}
