package harness

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/keyconform/keyconform/suites/scenario"
)

// awaitReady waits until the Deployments of the setup are available and
// its Gateways programmed, as a user would before sending traffic.
func (x *execution) awaitReady(ctx context.Context, objs []appliedObject) error {
	for _, a := range objs {
		var check func(*unstructured.Unstructured) string
		switch a.gvk.Kind {
		case deploymentKind.Kind:
			check = deploymentAvailable
		case scenario.GatewayKind.Kind:
			check = gatewayProgrammed
		default:
			continue
		}
		if err := awaitObject(ctx, x.res, a.gvk, a.obj.GetNamespace(), a.obj.GetName(),
			x.timeouts.GatewayReadyTimeout, x.timeouts.APITimeout, check); err != nil {
			return err
		}
	}
	return nil
}

func deploymentAvailable(u *unstructured.Unstructured) string {
	var d appsv1.Deployment
	if err := fromUnstructured(u, &d); err != nil {
		return err.Error()
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			if c.Status == corev1.ConditionTrue {
				return ""
			}
			return fmt.Sprintf("Available=%s: %s", c.Status, c.Message)
		}
	}
	return "no Available condition yet"
}

func gatewayProgrammed(u *unstructured.Unstructured) string {
	diffs := checkConditions(u, scenario.Condition{Type: "Programmed", Status: metav1.ConditionTrue}, nil)
	return strings.Join(diffs, "; ")
}
