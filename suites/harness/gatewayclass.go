package harness

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"

	"github.com/keyconform/keyconform/suites/scenario"
)

var gatewayClassKind = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "GatewayClass"}

// AwaitGatewayClass waits until the environment's GatewayClass exists and
// is Accepted, as Gateway API conformance does before any test, and
// returns its controllerName.
func AwaitGatewayClass(ctx context.Context, env Environment, tc TimeoutConfig) (string, error) {
	res, err := resources.New(env.RESTConfig())
	if err != nil {
		return "", fmt.Errorf("kubernetes client: %w", err)
	}
	var controller string
	err = awaitObject(ctx, res, gatewayClassKind, "", env.GatewayClass(), tc.PollInterval, tc.GatewayReadyTimeout, tc.APITimeout,
		func(u *unstructured.Unstructured) string {
			controller, _, _ = unstructured.NestedString(u.Object, "spec", "controllerName")
			return strings.Join(checkConditions(u, scenario.Condition{Type: "Accepted", Status: metav1.ConditionTrue}, nil), "; ")
		})
	if err != nil {
		return "", fmt.Errorf("%w (is an implementation installed, and is --gateway-class right?)", err)
	}
	return controller, nil
}
