package dialect

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// kgatewayAnnotationPrefix marks annotations only kgateway reads, such as
// kgateway.dev/policy-weight.
const kgatewayAnnotationPrefix = "kgateway.dev/"

// defaultKeyHeader is the key source an intent without keySources means.
const defaultKeyHeader = "api-key"

// EnvoyGateway renders intents as Envoy Gateway's SecurityPolicy with
// apiKeyAuth (api/v1alpha1/securitypolicy_types.go and
// api_key_auth_types.go of envoyproxy/gateway). Every default is written
// out: Envoy Gateway's are not kgateway's (it forwards the key unless
// sanitize is set, and has no default key source).
type EnvoyGateway struct{}

func (EnvoyGateway) Name() string           { return "envoy-gateway" }
func (EnvoyGateway) Implementation() string { return "Envoy Gateway" }

func (EnvoyGateway) ControllerNames() []string {
	return []string{"gateway.envoyproxy.io/gatewayclass-controller"}
}

func (EnvoyGateway) PolicyKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: "gateway.envoyproxy.io", Version: "v1alpha1", Kind: "SecurityPolicy"}
}

// Envoy Gateway's SecurityPolicy, as far as API key auth uses it.
type (
	securityPolicy struct {
		metav1.ObjectMeta `json:"metadata"`
		Spec              securityPolicySpec `json:"spec"`
	}
	securityPolicySpec struct {
		TargetRefs      []gwv1.LocalPolicyTargetReferenceWithSectionName `json:"targetRefs,omitempty"`
		TargetSelectors []egTargetSelector                               `json:"targetSelectors,omitempty"`
		APIKeyAuth      egAPIKeyAuth                                     `json:"apiKeyAuth"`
	}
	egTargetSelector struct {
		Group       *gwv1.Group       `json:"group,omitempty"`
		Kind        gwv1.Kind         `json:"kind"`
		MatchLabels map[string]string `json:"matchLabels,omitempty"`
	}
	egAPIKeyAuth struct {
		CredentialRefs        []gwv1.SecretObjectReference `json:"credentialRefs"`
		ExtractFrom           []egExtractFrom              `json:"extractFrom"`
		ForwardClientIDHeader *string                      `json:"forwardClientIDHeader,omitempty"`
		Sanitize              bool                         `json:"sanitize"`
	}
	egExtractFrom struct {
		Headers []string `json:"headers,omitempty"`
		Params  []string `json:"params,omitempty"`
		Cookies []string `json:"cookies,omitempty"`
	}
)

func (d EnvoyGateway) Render(in *Intent) (*unstructured.Unstructured, error) {
	unsupported := func(format string, args ...any) error {
		return &UnsupportedError{Dialect: d.Name(), Policy: in.Namespace + "/" + in.Name, Reason: fmt.Sprintf(format, args...)}
	}
	for k := range in.Annotations {
		if strings.HasPrefix(k, kgatewayAnnotationPrefix) {
			return nil, unsupported("annotation %s is kgateway's; Envoy Gateway orders policies by age only", k)
		}
	}
	auth := in.Spec.APIKeyAuth
	switch {
	case auth == nil:
		return nil, unsupported("the policy configures no apiKeyAuth")
	case auth.Disable != nil:
		return nil, unsupported("SecurityPolicy has no way to switch API key auth off under a policy attached higher up (disable)")
	case auth.SecretSelector != nil:
		return nil, unsupported("apiKeyAuth names Secrets by credentialRefs only, never by label selector (secretSelector)")
	case auth.SecretRef == nil:
		return nil, fmt.Errorf("policy %s/%s: apiKeyAuth sets none of secretRef, secretSelector and disable", in.Namespace, in.Name)
	}
	out := securityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: in.Name, Namespace: in.Namespace, Labels: in.Labels, Annotations: in.Annotations},
		Spec: securityPolicySpec{
			TargetRefs: in.Spec.TargetRefs,
			APIKeyAuth: egAPIKeyAuth{
				CredentialRefs:        []gwv1.SecretObjectReference{*auth.SecretRef},
				ForwardClientIDHeader: auth.ClientIDHeader,
				// Envoy Gateway forwards the key by default; kgateway, and so
				// the intent, hides it unless forwardCredential is true.
				Sanitize: auth.ForwardCredential == nil || !*auth.ForwardCredential,
			},
		},
	}
	for _, s := range in.Spec.TargetSelectors {
		if s.SectionName != nil {
			return nil, unsupported("a targetSelector with sectionName %q has no Envoy Gateway form", *s.SectionName)
		}
		out.Spec.TargetSelectors = append(out.Spec.TargetSelectors, egTargetSelector{Group: new(s.Group), Kind: s.Kind, MatchLabels: s.MatchLabels})
	}
	for i, ks := range auth.KeySources {
		ef, err := extractFrom(ks)
		if err != nil {
			return nil, unsupported("keySources[%d]: %v", i, err)
		}
		out.Spec.APIKeyAuth.ExtractFrom = append(out.Spec.APIKeyAuth.ExtractFrom, ef)
	}
	if len(out.Spec.APIKeyAuth.ExtractFrom) == 0 {
		out.Spec.APIKeyAuth.ExtractFrom = []egExtractFrom{{Headers: []string{defaultKeyHeader}}}
	}
	return toUnstructured(d.PolicyKind(), &out)
}

// extractFrom is one key source as Envoy Gateway writes it: exactly one of
// headers, params or cookies. A kgateway source naming several fields
// (header, else query, else cookie, within one source) has no equivalent.
func extractFrom(ks v1alpha1.APIKeySource) (egExtractFrom, error) {
	var ef egExtractFrom
	n := 0
	if ks.Header != nil {
		ef.Headers, n = []string{*ks.Header}, n+1
	}
	if ks.Query != nil {
		ef.Params, n = []string{*ks.Query}, n+1
	}
	if ks.Cookie != nil {
		ef.Cookies, n = []string{*ks.Cookie}, n+1
	}
	if n != 1 {
		return ef, fmt.Errorf("a source naming %d of header, query and cookie has no Envoy Gateway form (extractFrom takes exactly one)", n)
	}
	return ef, nil
}
