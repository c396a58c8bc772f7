package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TrafficPolicy attaches traffic behaviour (here: API key authentication) to
// Gateways, Gateway listeners, HTTPRoutes and HTTPRoute rules.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kgateway
// +kubebuilder:metadata:labels="gateway.networking.k8s.io/policy=Direct"
// +kubebuilder:printcolumn:name="Accepted",type=string,JSONPath=".status.ancestors[*].conditions[?(@.type=='Accepted')].status"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
type TrafficPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TrafficPolicySpec `json:"spec,omitempty"`
	Status gwv1.PolicyStatus `json:"status,omitempty"`
}

// TrafficPolicyList is a list of TrafficPolicy.
//
// +kubebuilder:object:root=true
type TrafficPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TrafficPolicy `json:"items"`
}

// TrafficPolicySpec is what a TrafficPolicy applies and where.
type TrafficPolicySpec struct {
	// TargetRefs are the Gateways (optionally one listener, by sectionName)
	// and HTTPRoutes (optionally one rule, by sectionName) this policy
	// applies to, in the policy's namespace. The kinds kgateway accepts are
	// accepted here; GRPCRoute and ListenerSet targets are reported in the
	// policy's status as not supported by this controller.
	//
	// +optional
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(r, (r.kind == 'Gateway' || r.kind == 'HTTPRoute' || r.kind == 'GRPCRoute' || r.kind.endsWith('ListenerSet')))",message="targetRefs may only reference Gateway, HTTPRoute, GRPCRoute, or ListenerSet resources"
	// +listType=atomic
	TargetRefs []gwv1.LocalPolicyTargetReferenceWithSectionName `json:"targetRefs,omitempty"`

	// TargetSelectors attach the policy to every object of a kind, in the
	// policy's namespace, whose labels include matchLabels; sectionName
	// then names a listener or rule of each.
	//
	// +optional
	// +kubebuilder:validation:XValidation:rule="self.all(r, (r.kind == 'Gateway' || r.kind == 'HTTPRoute' || r.kind == 'GRPCRoute' || r.kind.endsWith('ListenerSet')))",message="targetSelectors may only reference Gateway, HTTPRoute, GRPCRoute, or ListenerSet resources"
	// +listType=atomic
	TargetSelectors []TargetSelector `json:"targetSelectors,omitempty"`

	// APIKeyAuth authenticates requests with API keys stored in Secrets.
	//
	// +optional
	APIKeyAuth *APIKeyAuth `json:"apiKeyAuth,omitempty"`
}

// APIKeyAuth configures API key authentication. Exactly one of secretRef,
// secretSelector and disable is set. Every data entry of a referenced
// Secret is one credential: the entry's name is the client id, its value
// the API key.
//
// +kubebuilder:validation:XValidation:rule="(has(self.secretRef) ? 1 : 0) + (has(self.secretSelector) ? 1 : 0) + (has(self.disable) ? 1 : 0) == 1",message="exactly one of secretRef, secretSelector or disable must be set"
type APIKeyAuth struct {
	// KeySources are where the key is read from, tried in order; the first
	// source that yields a non-empty value decides. Empty means one source,
	// the header "api-key".
	//
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	KeySources []APIKeySource `json:"keySources,omitempty"`

	// ForwardCredential keeps the key in the request sent upstream. By
	// default it is removed from every configured source.
	//
	// +optional
	ForwardCredential *bool `json:"forwardCredential,omitempty"`

	// ClientIDHeader names a request header set to the authenticated
	// client's id before the request goes upstream, replacing any value the
	// client sent.
	//
	// Like kgateway's, the field has no length limit; an empty value
	// forwards no header.
	//
	// +optional
	ClientIDHeader *string `json:"clientIdHeader,omitempty"`

	// SecretRef names one Secret holding API keys. A Secret in another
	// namespace needs a ReferenceGrant.
	//
	// +optional
	SecretRef *gwv1.SecretObjectReference `json:"secretRef,omitempty"`

	// SecretSelector selects every Secret whose labels match, in the
	// policy's namespace and in namespaces that grant it by ReferenceGrant.
	//
	// +optional
	SecretSelector *LabelSelector `json:"secretSelector,omitempty"`

	// Disable turns API key authentication off where this policy attaches,
	// overriding a policy attached higher up.
	//
	// +optional
	Disable *PolicyDisable `json:"disable,omitempty"`
}

// APIKeySource is one place to read a key from. When several fields are
// set, header wins over query, query over cookie.
//
// +kubebuilder:validation:XValidation:rule="has(self.header) || has(self.query) || has(self.cookie)",message="at least one of header, query or cookie must be set"
type APIKeySource struct {
	// Header is a request header name, matched case-insensitively. A value
	// starting with "Bearer " has that prefix removed.
	//
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Header *string `json:"header,omitempty"`

	// Query is a query parameter name.
	//
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Query *string `json:"query,omitempty"`

	// Cookie is a cookie name.
	//
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Cookie *string `json:"cookie,omitempty"`
}

// LabelSelector selects Secrets by label.
type LabelSelector struct {
	// MatchLabels must all be present with equal values on a selected
	// Secret. Empty selects every Secret that has at least one label, never
	// an unlabelled one.
	MatchLabels map[string]string `json:"matchLabels"`
}

// TargetSelector selects policy targets by group, kind and labels.
type TargetSelector struct {
	// Group is the target's API group, gateway.networking.k8s.io for
	// Gateways and HTTPRoutes.
	Group gwv1.Group `json:"group"`

	// Kind is the target's kind.
	Kind gwv1.Kind `json:"kind"`

	// MatchLabels must all be present with equal values on a target.
	MatchLabels map[string]string `json:"matchLabels"`

	// SectionName names a listener of each selected Gateway or a rule of
	// each selected HTTPRoute.
	//
	// +optional
	SectionName *gwv1.SectionName `json:"sectionName,omitempty"`
}

// PolicyDisable is the empty marker object of `disable: {}`.
type PolicyDisable struct{}
