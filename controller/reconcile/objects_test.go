package reconcile

import (
	"fmt"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// app is the seed's sample application in a namespace of its own: Gateway
// "http" (class kgateway, port 8080), Service and EndpointSlice "httpbin",
// HTTPRoute "httpbin" for www.example.com.
type app struct{ ns string }

var appCount atomic.Int64

func newApp(prefix string) app {
	return app{ns: fmt.Sprintf("%s-%d", prefix, appCount.Add(1))}
}

func (a app) nodeID() string { return a.ns + "/http" }

func (a app) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: a.ns, Name: name}
}

// objects returns the application without any policy or Secret.
func (a app) objects() []client.Object {
	return []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: a.ns}},
		&gwv1.Gateway{
			ObjectMeta: a.meta("http"),
			Spec: gwv1.GatewaySpec{
				GatewayClassName: DefaultGatewayClassName,
				Listeners:        []gwv1.Listener{{Name: "http", Protocol: gwv1.HTTPProtocolType, Port: 8080}},
			},
		},
		&corev1.Service{
			ObjectMeta: a.meta("httpbin"),
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
				Name: "http", Port: 8000, TargetPort: intstr.FromInt32(8080),
			}}},
		},
		a.endpointSlice("10.244.0.7"),
		&gwv1.HTTPRoute{
			ObjectMeta: a.meta("httpbin"),
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "http"}}},
				Hostnames:       []gwv1.Hostname{"www.example.com"},
				Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
					BackendObjectReference: gwv1.BackendObjectReference{Name: "httpbin", Port: ptr.To(gwv1.PortNumber(8000))},
				}}}}},
			},
		},
	}
}

func (a app) endpointSlice(ip string) *discoveryv1.EndpointSlice {
	m := a.meta("httpbin-abcde")
	m.Labels = map[string]string{discoveryv1.LabelServiceName: "httpbin"}
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  m,
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(int32(8080)), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
}

func (a app) secret(name string, labels map[string]string, data map[string]string) *corev1.Secret {
	m := a.meta(name)
	m.Labels = labels
	return &corev1.Secret{ObjectMeta: m, Type: "extauth.solo.io/apikey", StringData: data}
}

// routePolicy attaches apiKeyAuth to HTTPRoute httpbin.
func (a app) routePolicy(name string, auth v1alpha1.APIKeyAuth) *v1alpha1.TrafficPolicy {
	return &v1alpha1.TrafficPolicy{
		ObjectMeta: a.meta(name),
		Spec: v1alpha1.TrafficPolicySpec{
			TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{
				Group: gwv1.GroupName, Kind: "HTTPRoute", Name: "httpbin",
			}}},
			APIKeyAuth: &auth,
		},
	}
}
