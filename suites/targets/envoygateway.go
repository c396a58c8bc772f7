package targets

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Envoy Gateway serves the GatewayClasses that name its controller and,
// unlike kgateway and the reference controller, creates none: the sim and
// kind targets create one, named as in Envoy Gateway's quickstart.
const (
	EnvoyGatewayClass      = "eg"
	envoyGatewayController = "gateway.envoyproxy.io/gatewayclass-controller"
)

// envoyGatewayClass is the GatewayClass the sim and kind targets create for
// Envoy Gateway; params, when set, points at the EnvoyProxy that shapes
// every Gateway's data plane.
func envoyGatewayClass(params *gwv1.ParametersReference) *gwv1.GatewayClass {
	return &gwv1.GatewayClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "GatewayClass"},
		ObjectMeta: metav1.ObjectMeta{Name: EnvoyGatewayClass},
		Spec:       gwv1.GatewayClassSpec{ControllerName: envoyGatewayController, ParametersRef: params},
	}
}
