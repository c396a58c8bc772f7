// Package v1alpha1 holds the slice of kgateway's gateway.kgateway.dev/v1alpha1
// API that keyconform implements: TrafficPolicy with apiKeyAuth.
//
// +kubebuilder:object:generate=true
// +groupName=gateway.kgateway.dev
package v1alpha1
