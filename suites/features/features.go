// Package features names what the API key auth scenarios exercise and groups
// those names into the API key auth conformance profile, the way Gateway API
// conformance gates its tests by named features.
package features

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	gwfeatures "sigs.k8s.io/gateway-api/pkg/features"
)

// Name is a feature name; the Gateway API type, so names can be mixed with
// Gateway API's own features and appear in its report type unchanged.
type Name = gwfeatures.FeatureName

// Core features: an implementation of TrafficPolicy.apiKeyAuth must pass
// every scenario that needs only these to be conformant at all.
const (
	// APIKeyAuth is the seed's main flow: a Gateway-level policy, keys from
	// one Secret by secretRef, the default source (header api-key, "Bearer "
	// removed), 401 `Client authentication failed.` otherwise, and the key
	// removed before the request goes upstream.
	APIKeyAuth Name = "APIKeyAuth"
	// HeaderSource is keySources with custom header names.
	HeaderSource Name = "APIKeyAuthHeaderSource"
	// RouteLevel is a policy targeting an HTTPRoute, replacing a
	// Gateway-level one whole.
	RouteLevel Name = "APIKeyAuthRouteLevel"
	// FailClosed is an invalid policy (missing Secret, no usable key,
	// conflicting keys) never letting a request through: a 5xx local reply
	// on the routes it covers, the backend not reached, and Accepted=False
	// reason Invalid without ever echoing a key.
	FailClosed Name = "APIKeyAuthFailClosed"
	// SecretRotation is Secret edits, deletions and re-creations taking
	// effect on live traffic.
	SecretRotation Name = "APIKeyAuthSecretRotation"
)

// Extended features: optional parts of the API, claimed with
// --supported-features.
const (
	QuerySource       Name = "APIKeyAuthQuerySource"
	CookieSource      Name = "APIKeyAuthCookieSource"
	ClientIDHeader    Name = "APIKeyAuthClientIDHeader"
	ForwardCredential Name = "APIKeyAuthForwardCredential"
	LabelSelector     Name = "APIKeyAuthLabelSelector"
	// RuleLevel is a policy targeting one HTTPRoute rule by sectionName.
	RuleLevel Name = "APIKeyAuthRuleLevel"
	// ListenerLevel is a policy targeting one Gateway listener by sectionName.
	ListenerLevel Name = "APIKeyAuthListenerLevel"
	// ReferenceGrant is a Secret in another namespace, usable only once a
	// ReferenceGrant allows it.
	ReferenceGrant Name = "APIKeyAuthReferenceGrant"
	// Disable is `disable: {}` switching a higher-level policy off
	// (kgateway's; Envoy Gateway has no equivalent).
	Disable Name = "APIKeyAuthDisable"
	// PolicyConflict is two policies at the same level: the oldest wins.
	PolicyConflict Name = "APIKeyAuthPolicyConflict"
	// PolicyWeight is kgateway's kgateway.dev/policy-weight annotation
	// ordering policies at the same level before their age.
	PolicyWeight Name = "APIKeyAuthPolicyWeight"
	// EmptyKeysSkipped is kgateway's reading of a Secret entry with an
	// empty value: not a credential, skipped (Envoy Gateway passes it on,
	// and Envoy refuses an empty key).
	EmptyKeysSkipped Name = "APIKeyAuthEmptyKeysSkipped"
	// KgatewayStatus is kgateway's status reasons and messages: Invalid
	// messages naming Secrets and clients, RouteRuleReplaced,
	// ListenerReplaced, GatewayReplaced, Overridden, and the StatusSummary
	// ancestor of unresolved targets.
	KgatewayStatus Name = "APIKeyAuthKgatewayStatus"
	// KgatewayReplacement is how kgateway fails closed: its 500 body
	// "invalid route configuration detected and replaced with a direct
	// response.", and the scope it replaces (a Gateway-wide invalid policy
	// replaces the whole route configuration, valid route policies
	// included).
	KgatewayReplacement Name = "APIKeyAuthKgatewayReplacement"
	// TargetSelector is a policy attached by targetSelectors (labels)
	// instead of targetRefs.
	TargetSelector Name = "APIKeyAuthTargetSelector"
	// GRPCLocalReply is Envoy's local reply to a gRPC request (content-type
	// application/grpc or application/grpc+...): the filter's 401 as gRPC's
	// trailers-only reply, HTTP 200 with grpc-status 16 (UNAUTHENTICATED).
	GRPCLocalReply Name = "APIKeyAuthGRPCLocalReply"
	// FragmentRejected is Envoy answering 400 to a request-target with a
	// #fragment before any filter, a valid key or not.
	FragmentRejected Name = "APIKeyAuthFragmentRejected"
)

// ProfileName is the conformance profile of this suite, in the report.
const ProfileName = "API-KEY-AUTH"

// Profile is a named set of core and extended features, as in Gateway API
// conformance (GEP-1709).
type Profile struct {
	Name     string
	Core     sets.Set[Name]
	Extended sets.Set[Name]
}

// APIKeyAuthProfile is the profile every scenario of this suite belongs to.
var APIKeyAuthProfile = Profile{
	Name: ProfileName,
	Core: sets.New(APIKeyAuth, HeaderSource, RouteLevel, FailClosed, SecretRotation),
	Extended: sets.New(QuerySource, CookieSource, ClientIDHeader, ForwardCredential, LabelSelector, RuleLevel, ListenerLevel,
		ReferenceGrant, Disable, PolicyConflict, PolicyWeight, TargetSelector, EmptyKeysSkipped, KgatewayStatus, KgatewayReplacement,
		GRPCLocalReply, FragmentRejected),
}

// All returns every feature of the profile, sorted.
func (p Profile) All() []Name {
	return sets.List(p.Core.Union(p.Extended))
}

// IsExtended reports whether a test needing these features counts as
// extended: any feature outside core makes it so.
func (p Profile) IsExtended(needs []Name) bool {
	return slices.ContainsFunc(needs, func(n Name) bool { return !p.Core.Has(n) })
}

// Parse turns a comma-separated list into feature names, rejecting names
// the profile does not know so a typo in --supported-features is an error
// instead of a silently skipped scenario.
func (p Profile) Parse(list string) ([]Name, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	known := p.Core.Union(p.Extended)
	var out []Name
	var unknown []string
	for _, raw := range strings.Split(list, ",") {
		n := Name(strings.TrimSpace(raw))
		if n == "" {
			continue
		}
		if !known.Has(n) {
			unknown = append(unknown, string(n))
			continue
		}
		out = append(out, n)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown feature(s) %s; known features: %s",
			strings.Join(unknown, ", "), joinNames(p.All()))
	}
	return out, nil
}

func joinNames(names []Name) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	return strings.Join(s, ", ")
}
