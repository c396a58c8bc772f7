package translate

import (
	"maps"
	"slices"

	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"google.golang.org/protobuf/types/known/anypb"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
	"github.com/keyconform/keyconform/internal/mutant"
)

// Only mutants (internal/mutant) call what is here: a normal build
// compiles their call sites away, and the linker these functions.

// firstSelection is mutant.SelectorEvaluatedOnce: the Secrets a policy's
// selector chose the first time it was evaluated, as they are now.
func (ix *index) firstSelection(tp *v1alpha1.TrafficPolicy, selected []*corev1.Secret) []*corev1.Secret {
	keys := make([]types.NamespacedName, 0, len(selected))
	for _, s := range selected {
		keys = append(keys, keyOf(s.Namespace, s.Name))
	}
	var out []*corev1.Secret
	for _, k := range mutant.Remember("selection/"+string(tp.UID), keys) {
		if s := ix.secrets[k]; s != nil {
			out = append(out, s)
		}
	}
	return out
}

// mergeOuterCredentials is mutant.RouteMergedWithGateway: the route's API
// key auth config also accepts the keys of the listener's or Gateway's
// policy.
func mergeOuterCredentials(cfg map[string]*anypb.Any, ps *policies, l *listenerModel) map[string]*anypb.Any {
	outer := ps.atListener(l)
	if outer == nil {
		outer = ps.atGateway(l.gateway)
	}
	if cfg == nil || outer == nil || outer.config == nil {
		return cfg
	}
	inner, err := cfg[apiKeyAuthFilterName].UnmarshalNew()
	if err != nil {
		return cfg
	}
	other, err := outer.config.UnmarshalNew()
	route, ok1 := inner.(*apikeyauthv3.ApiKeyAuthPerRoute)
	gateway, ok2 := other.(*apikeyauthv3.ApiKeyAuthPerRoute)
	if err != nil || !ok1 || !ok2 {
		return cfg
	}
	byKey := map[string]*apikeyauthv3.Credential{}
	for _, c := range append(gateway.GetCredentials(), route.GetCredentials()...) {
		byKey[c.GetKey()] = c
	}
	route.Credentials = nil
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		route.Credentials = append(route.Credentials, byKey[k])
	}
	return map[string]*anypb.Any{apiKeyAuthFilterName: mustAny(route)}
}

// mutatedSecrets is the Secrets as mutant.SecretUpdatesIgnored (each
// Secret as first seen) or mutant.DeletedSecretKeysKept (deleted Secrets
// still there) has the translator see them.
func mutatedSecrets(in []corev1.Secret) []corev1.Secret {
	out := slices.Clone(in)
	if mutant.On(mutant.SecretUpdatesIgnored) {
		for i, s := range out {
			out[i] = mutant.Remember("secret/"+string(s.UID), s)
		}
		return out
	}
	present := map[types.NamespacedName]bool{}
	for _, s := range out {
		key := keyOf(s.Namespace, s.Name)
		present[key] = true
		mutant.Memory.Store(key, s)
	}
	mutant.Memory.Range(func(k, v any) bool {
		if key, ok := k.(types.NamespacedName); ok && !present[key] {
			out = append(out, v.(corev1.Secret))
		}
		return true
	})
	return out
}
