package localenv

import (
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
)

// managedByLabel marks the EndpointSlices the environment writes, standing
// in for kube-controller-manager's EndpointSlice controller (which does not
// run without a kubelet and scheduler).
const (
	managedByLabel = discoveryv1.LabelManagedBy
	managedByValue = "localenv.keyconform.dev"
)

// pod is a simulated pod: labels and ports as in the Deployment's template,
// an address on the simulated pod network, served by a loopback listener.
type pod struct {
	Namespace string
	Name      string
	Labels    map[string]string
	IP        netip.Addr
	Ports     []corev1.ContainerPort
	// Ready is the pod's Ready condition; EndpointSlices list pods that
	// are not ready too, marked so, as the EndpointSlice controller does.
	Ready bool
}

// endpointSlices computes the EndpointSlices the environment maintains: one
// per Service with a selector, holding the pods it selects. It is what
// the EndpointSlice controller would write, reduced to what the data plane
// reads.
func endpointSlices(services []corev1.Service, pods []pod) []discoveryv1.EndpointSlice {
	var out []discoveryv1.EndpointSlice
	for i := range services {
		svc := &services[i]
		if len(svc.Spec.Selector) == 0 {
			continue
		}
		selector := labels.SelectorFromSet(svc.Spec.Selector)
		var selected []pod
		for _, p := range pods {
			if p.Namespace == svc.Namespace && selector.Matches(labels.Set(p.Labels)) {
				selected = append(selected, p)
			}
		}
		sort.Slice(selected, func(a, b int) bool { return selected[a].IP.Less(selected[b].IP) })
		out = append(out, sliceFor(svc, selected))
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Namespace != out[b].Namespace {
			return out[a].Namespace < out[b].Namespace
		}
		return out[a].Name < out[b].Name
	})
	return out
}

func sliceFor(svc *corev1.Service, pods []pod) discoveryv1.EndpointSlice {
	slice := discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: svc.Namespace,
			Name:      svc.Name + "-localenv",
			Labels: map[string]string{
				discoveryv1.LabelServiceName: svc.Name,
				managedByLabel:               managedByValue,
			},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{},
	}
	for _, sp := range svc.Spec.Ports {
		port, ok := targetPort(sp, pods)
		if !ok {
			continue
		}
		slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{
			Name:     ptr.To(sp.Name),
			Protocol: ptr.To(protocolOrTCP(sp.Protocol)),
			Port:     ptr.To(port),
		})
	}
	for _, p := range pods {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{p.IP.String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(p.Ready), Serving: ptr.To(p.Ready), Terminating: ptr.To(false)},
			NodeName:   ptr.To(nodeName),
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name},
		})
	}
	return slice
}

// targetPort resolves a Service port's targetPort to a number: a number is
// taken as is (the port itself when unset), a name is looked up among the
// selected pods' container ports.
func targetPort(sp corev1.ServicePort, pods []pod) (int32, bool) {
	switch {
	case sp.TargetPort.StrVal != "":
		for _, p := range pods {
			for _, cp := range p.Ports {
				if cp.Name == sp.TargetPort.StrVal {
					return cp.ContainerPort, true
				}
			}
		}
		return 0, false
	case sp.TargetPort.IntVal != 0:
		return sp.TargetPort.IntVal, true
	default:
		return sp.Port, true
	}
}

func protocolOrTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}
