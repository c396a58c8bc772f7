package localenv

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/keyconform/keyconform/sim/podnet"
)

// serviceProxy stands in for cluster DNS and kube-proxy on the simulated
// pod network: every Service with a cluster IP is known by its DNS names,
// and a connection to its cluster IP and port reaches one of its ready
// endpoints, as in a cluster.
type serviceProxy struct {
	client client.Client
	net    *podnet.Network
}

var serviceProxyKey = reconcile.Request{NamespacedName: types.NamespacedName{Name: "service-proxy"}}

func (s *serviceProxy) setupWithManager(mgr ctrl.Manager) error {
	all := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{serviceProxyKey}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("localenv-service-proxy").
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
		Watches(&corev1.Service{}, all).
		Watches(&discoveryv1.EndpointSlice{}, all).
		Complete(s)
}

func (s *serviceProxy) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	var services corev1.ServiceList
	if err := s.client.List(ctx, &services); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing services: %w", err)
	}
	var slices discoveryv1.EndpointSliceList
	if err := s.client.List(ctx, &slices); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing endpoint slices: %w", err)
	}
	hosts, vips := serviceTables(services.Items, slices.Items)
	s.net.SetHosts(hosts)
	s.net.SetServices(vips)
	return reconcile.Result{}, nil
}

// serviceTables computes DNS names -> cluster IP and cluster IP:port ->
// ready endpoint addresses, from what the API server holds.
func serviceTables(services []corev1.Service, slices []discoveryv1.EndpointSlice) (map[string]netip.Addr, map[netip.AddrPort][]netip.AddrPort) {
	bySvc := map[types.NamespacedName][]*discoveryv1.EndpointSlice{}
	for i := range slices {
		es := &slices[i]
		key := types.NamespacedName{Namespace: es.Namespace, Name: es.Labels[discoveryv1.LabelServiceName]}
		bySvc[key] = append(bySvc[key], es)
	}
	hosts := map[string]netip.Addr{}
	vips := map[netip.AddrPort][]netip.AddrPort{}
	for i := range services {
		svc := &services[i]
		ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
		if err != nil {
			continue // headless, or not allocated
		}
		for _, name := range []string{
			svc.Name + "." + svc.Namespace + ".svc.cluster.local",
			svc.Name + "." + svc.Namespace + ".svc",
			svc.Name + "." + svc.Namespace,
		} {
			hosts[name] = ip
		}
		for _, sp := range svc.Spec.Ports {
			vip := netip.AddrPortFrom(ip, uint16(sp.Port))
			for _, es := range bySvc[client.ObjectKeyFromObject(svc)] {
				port, ok := slicePort(es, sp.Name)
				if !ok {
					continue
				}
				for _, ep := range es.Endpoints {
					if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
						continue
					}
					for _, a := range ep.Addresses {
						if addr, err := netip.ParseAddr(a); err == nil {
							vips[vip] = append(vips[vip], netip.AddrPortFrom(addr, uint16(port)))
						}
					}
				}
			}
		}
	}
	return hosts, vips
}

func slicePort(es *discoveryv1.EndpointSlice, name string) (int32, bool) {
	for _, p := range es.Ports {
		if ptr.Deref(p.Name, "") == name && p.Port != nil {
			return *p.Port, true
		}
	}
	return 0, false
}
