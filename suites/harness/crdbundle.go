package harness

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"
)

// Gateway API's CRD bundle annotations (every CRD of a release carries
// them).
const (
	bundleVersionAnnotation = "gateway.networking.k8s.io/bundle-version"
	channelAnnotation       = "gateway.networking.k8s.io/channel"
)

var crdKind = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}

// GatewayAPIBundle reads the Gateway API version and channel installed in
// the environment, from the Gateway CRD's bundle annotations.
func GatewayAPIBundle(ctx context.Context, env Environment) (version, channel string, err error) {
	res, err := resources.New(env.RESTConfig())
	if err != nil {
		return "", "", fmt.Errorf("kubernetes client: %w", err)
	}
	crd := &unstructured.Unstructured{}
	crd.SetGroupVersionKind(crdKind)
	if err := res.Get(ctx, "gateways.gateway.networking.k8s.io", "", crd); err != nil {
		return "", "", fmt.Errorf("reading the Gateway CRD for the Gateway API version: %w", err)
	}
	a := crd.GetAnnotations()
	version, channel = a[bundleVersionAnnotation], a[channelAnnotation]
	if version == "" || channel == "" {
		return "", "", fmt.Errorf("the Gateway CRD has no %s and %s annotations: install Gateway API from a release bundle",
			bundleVersionAnnotation, channelAnnotation)
	}
	return version, channel, nil
}

// CheckGatewayAPIBundle says what is wrong when the installed Gateway API
// is not the version the suites are built against.
func CheckGatewayAPIBundle(installed, want string, allowMismatch bool) error {
	if installed == want || allowMismatch {
		return nil
	}
	return fmt.Errorf("the cluster has Gateway API %s installed, the suites are built against %s: install %s, or pass --allow-crds-mismatch to run anyway (the report then names %s)",
		installed, want, want, installed)
}
