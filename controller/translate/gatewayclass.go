package translate

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// acceptClasses returns the names of the GatewayClasses this controller
// manages and the status each of them gets. parametersRef is not read: the
// controller has no parameters, and kgateway's own class manifests (which
// carry one) must still work.
func acceptClasses(in *Inputs) (map[string]bool, map[string]gwv1.GatewayClassStatus) {
	ours := map[string]bool{}
	statuses := map[string]gwv1.GatewayClassStatus{}
	for i := range in.GatewayClasses {
		gc := &in.GatewayClasses[i]
		if gc.Spec.ControllerName != in.ControllerName {
			continue
		}
		ours[gc.Name] = true
		statuses[gc.Name] = gwv1.GatewayClassStatus{
			Conditions: []metav1.Condition{
				condition(string(gwv1.GatewayClassConditionStatusAccepted), true,
					string(gwv1.GatewayClassReasonAccepted),
					"GatewayClass is managed by "+string(in.ControllerName), gc.Generation),
			},
		}
	}
	return ours, statuses
}
