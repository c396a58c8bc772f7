package localenv

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/keyconform/keyconform/sim/podnet"
)

// hostServiceLabel marks the EndpointSlices of host services.
const hostServiceLabel = "localenv.keyconform.dev/host-service"

// hostService is a Service whose backend is a process of the environment
// (a control plane's xDS server) rather than a pod: a Service without
// selector and an EndpointSlice at a simulated address the pod network
// maps to the process's loopback listener, so pods reach it by its DNS
// name as in a cluster.
type hostService struct {
	Namespace, Name string
	Port            int32
	// Local is the loopback address the process listens on.
	Local netip.AddrPort
}

// publish creates the Service and its EndpointSlice and maps the
// endpoint's address.
func (h hostService) publish(ctx context.Context, c client.Client, network *podnet.Network, ip netip.Addr) error {
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.Namespace}},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: h.Name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
				Name: "grpc", Protocol: corev1.ProtocolTCP, Port: h.Port, TargetPort: intstr.FromInt32(h.Port),
			}}},
		},
		&discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: h.Name + "-localenv", Labels: map[string]string{
				discoveryv1.LabelServiceName: h.Name, managedByLabel: managedByValue, hostServiceLabel: "true",
			}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{
				Addresses:  []string{ip.String()},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
			}},
			Ports: []discoveryv1.EndpointPort{{Name: ptr.To("grpc"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(h.Port)}},
		},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); client.IgnoreAlreadyExists(err) != nil {
			return fmt.Errorf("host service %s/%s: creating %T: %w", h.Namespace, h.Name, o, err)
		}
	}
	return network.Add(netip.AddrPortFrom(ip, uint16(h.Port)).String(), h.Local.String())
}
