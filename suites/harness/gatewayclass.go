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

// GatewayClassInfo is what a GatewayClass says of its implementation.
type GatewayClassInfo struct {
	ControllerName string
	// SupportedFeatures are the names in status.supportedFeatures.
	SupportedFeatures []string
}

// AwaitGatewayClass waits until the environment's GatewayClass exists and
// is Accepted, as Gateway API conformance does before any test, and
// returns what it says of its implementation.
func AwaitGatewayClass(ctx context.Context, env Environment, tc TimeoutConfig) (GatewayClassInfo, error) {
	res, err := resources.New(env.RESTConfig())
	if err != nil {
		return GatewayClassInfo{}, fmt.Errorf("kubernetes client: %w", err)
	}
	var info GatewayClassInfo
	err = awaitObject(ctx, res, gatewayClassKind, "", env.GatewayClass(), tc.GatewayReadyTimeout, tc.APITimeout,
		func(u *unstructured.Unstructured) string {
			info = gatewayClassInfo(u)
			return strings.Join(checkConditions(u, scenario.Condition{Type: "Accepted", Status: metav1.ConditionTrue}, nil), "; ")
		})
	if err != nil {
		return GatewayClassInfo{}, fmt.Errorf("%w (is an implementation installed, and is --gateway-class right?)", err)
	}
	return info, nil
}

func gatewayClassInfo(u *unstructured.Unstructured) GatewayClassInfo {
	info := GatewayClassInfo{}
	info.ControllerName, _, _ = unstructured.NestedString(u.Object, "spec", "controllerName")
	features, _, _ := unstructured.NestedSlice(u.Object, "status", "supportedFeatures")
	for _, f := range features {
		if m, ok := f.(map[string]any); ok {
			if name, ok := m["name"].(string); ok {
				info.SupportedFeatures = append(info.SupportedFeatures, name)
			}
		}
	}
	return info
}
