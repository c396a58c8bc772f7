package translate

import (
	"encoding/json"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"google.golang.org/protobuf/types/known/anypb"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// fuzzSecret is the fuzzed Secret, as JSON: text values keep the fuzzer's
// mutations readable (a []byte map would be base64).
type fuzzSecret struct {
	Type   corev1.SecretType `json:"type"`
	Labels map[string]string `json:"labels"`
	Data   map[string]string `json:"data"`
}

// FuzzPolicyFailsClosed translates the seed's Gateway and route with one
// fuzzed TrafficPolicy (its spec as JSON, attached to the Gateway or to the
// route) and one fuzzed Secret beside it, named "apikey". Whatever they
// say, translation must not panic, every resource must pass Envoy's
// validation, and no route may reach the backend without API key auth
// unless the policy is accepted and says disable; the keys a route
// accepts are values the Secret holds.
func FuzzPolicyFailsClosed(f *testing.F) {
	base := loadCase(f, goldenCase{name: "seed-secretref"})
	base.TrafficPolicies, base.Secrets = nil, nil
	for _, c := range goldenCases() {
		in := loadCase(f, c)
		for _, tp := range in.TrafficPolicies {
			spec, err := json.Marshal(tp.Spec)
			if err != nil {
				f.Fatal(err)
			}
			for _, s := range in.Secrets {
				fs := fuzzSecret{Type: s.Type, Labels: s.Labels, Data: map[string]string{}}
				for k, v := range s.StringData {
					fs.Data[k] = v
				}
				for k, v := range s.Data {
					fs.Data[k] = string(v)
				}
				secret, err := json.Marshal(fs)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(spec, secret, false, tp.Annotations[policyWeightAnnotation])
			}
		}
	}
	f.Fuzz(func(t *testing.T, spec, secret []byte, onRoute bool, weight string) {
		in, tp, ok := fuzzInputs(base, spec, secret, onRoute, weight)
		if !ok {
			return // not a spec or Secret the API server would store
		}
		out := Translate(in)
		status := out.TrafficPolicies[keyOf(tp.Namespace, tp.Name)]
		accepted := len(status.Ancestors) > 0
		for _, a := range status.Ancestors {
			accepted = accepted && meta.IsStatusConditionTrue(a.Conditions, string(gwv1.PolicyConditionAccepted))
		}
		keys := map[string]bool{}
		for _, v := range in.Secrets[0].Data {
			keys[string(v)] = true
		}
		for _, p := range out.Proxies {
			checkProxy(t, p, func(r *routev3.Route, auth *anypb.Any) {
				// A direct response (the 500 of a replaced rule) reaches no
				// backend.
				if r.GetRoute() != nil {
					checkForwardingRoute(t, r.GetName(), auth, tp, accepted, keys)
				}
			})
		}
	})
}

// fuzzInputs is base with the fuzzed policy and Secret, or false when
// spec or secret do not decode or name no policy the API server would
// store (a TrafficPolicy's spec is an object, its Secret's keys are
// Secret keys).
func fuzzInputs(base Inputs, spec, secret []byte, onRoute bool, weight string) (Inputs, v1alpha1.TrafficPolicy, bool) {
	tp := v1alpha1.TrafficPolicy{ObjectMeta: metav1.ObjectMeta{
		Name: "fuzzed", Namespace: "kgateway-system", Generation: 1,
		Annotations: map[string]string{policyWeightAnnotation: weight},
	}}
	var fs fuzzSecret
	if json.Unmarshal(spec, &tp.Spec) != nil || json.Unmarshal(secret, &fs) != nil {
		return Inputs{}, tp, false
	}
	target := gwv1.LocalPolicyTargetReference{Group: gwv1.GroupName, Kind: "Gateway", Name: "http"}
	if onRoute {
		tp.Namespace = "httpbin"
		target = gwv1.LocalPolicyTargetReference{Group: gwv1.GroupName, Kind: "HTTPRoute", Name: "httpbin"}
	}
	// Attached by name only, so every fuzzed policy applies to the route
	// whose fate is checked.
	tp.Spec.TargetRefs = []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: target}}
	tp.Spec.TargetSelectors = nil
	s := corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "apikey", Namespace: tp.Namespace, Labels: fs.Labels},
		Type:       fs.Type,
		Data:       map[string][]byte{},
	}
	for k, v := range fs.Data {
		s.Data[k] = []byte(v)
	}
	in := base
	in.TrafficPolicies = []v1alpha1.TrafficPolicy{tp}
	in.Secrets = []corev1.Secret{s}
	return in, tp, true
}

// checkForwardingRoute fails a route that forwards to a backend unless API
// key auth guards it with keys from the Secret, or an accepted policy
// disables it.
func checkForwardingRoute(t *testing.T, route string, cfg *anypb.Any, tp v1alpha1.TrafficPolicy, accepted bool, keys map[string]bool) {
	t.Helper()
	auth := tp.Spec.APIKeyAuth
	if auth == nil || (accepted && auth.Disable != nil) {
		return // nothing asks for API key auth here
	}
	if cfg == nil {
		t.Errorf("route %q forwards to a backend without API key auth; policy accepted: %v", route, accepted)
		return
	}
	m, err := cfg.UnmarshalNew()
	if err != nil {
		t.Fatal(err)
	}
	switch m := m.(type) {
	case *routev3.FilterConfig:
		t.Errorf("route %q has API key auth disabled; policy accepted: %v, disable set: %v", route, accepted, auth.Disable != nil)
	case *apikeyauthv3.ApiKeyAuthPerRoute:
		if !accepted {
			t.Errorf("route %q forwards with the configuration of a policy that is not accepted", route)
		}
		for i, c := range m.GetCredentials() {
			// The message names the credential's position, never its key.
			if !keys[c.GetKey()] {
				t.Errorf("route %q accepts credential #%d (client %q), which is no value of the Secret", route, i, c.GetClient())
			}
		}
	}
}
