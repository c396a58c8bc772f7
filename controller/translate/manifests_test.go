package translate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// testController is the controller name of the test cases' GatewayClass
// (kgateway's, so the seed's manifests apply unchanged).
const testController gwv1.GatewayController = "kgateway.dev/kgateway"

// loadInputs reads a multi-document manifest file into Inputs. Unknown
// kinds and unknown fields are errors, so a typo in a case cannot silently
// change what it tests.
func loadInputs(path string) (Inputs, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Inputs{}, err
	}
	in := Inputs{ControllerName: testController}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return in, nil
		}
		if err != nil {
			return Inputs{}, fmt.Errorf("%s: document %d: %w", path, n, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		if err := addManifest(&in, doc); err != nil {
			return Inputs{}, fmt.Errorf("%s: document %d: %w", path, n, err)
		}
	}
}

func addManifest(in *Inputs, doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var err error
	switch tm.Kind {
	case "Namespace":
		in.Namespaces, err = appendStrict(in.Namespaces, doc)
	case "GatewayClass":
		in.GatewayClasses, err = appendStrict(in.GatewayClasses, doc)
	case "Gateway":
		in.Gateways, err = appendStrict(in.Gateways, doc)
	case "HTTPRoute":
		in.HTTPRoutes, err = appendStrict(in.HTTPRoutes, doc)
	case "TrafficPolicy":
		in.TrafficPolicies, err = appendStrict(in.TrafficPolicies, doc)
	case "Secret":
		in.Secrets, err = appendStrict(in.Secrets, doc)
	case "ReferenceGrant":
		in.ReferenceGrants, err = appendStrict(in.ReferenceGrants, doc)
	case "Service":
		in.Services, err = appendStrict(in.Services, doc)
	case "EndpointSlice":
		in.EndpointSlices, err = appendStrict(in.EndpointSlices, doc)
	default:
		return fmt.Errorf("kind %q is not a translator input", tm.Kind)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", tm.Kind, err)
	}
	return nil
}

// inputObject lists the input types, so appendStrict stays generic.
type inputObject interface {
	corev1.Namespace | gwv1.GatewayClass | gwv1.Gateway | gwv1.HTTPRoute | v1alpha1.TrafficPolicy |
		corev1.Secret | gwv1.ReferenceGrant | corev1.Service | discoveryv1.EndpointSlice
}

func appendStrict[T inputObject](list []T, doc []byte) ([]T, error) {
	var obj T
	if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
		return list, err
	}
	return append(list, obj), nil
}
