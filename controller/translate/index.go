package translate

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/internal/mutant"
)

// namespaceNameLabel is set by the API server on every Namespace; selectors
// commonly use it, so it is assumed even when an input Namespace lacks it.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// index holds the inputs by key, with every list in a fixed order so that
// nothing downstream depends on the order the caller passed them in.
type index struct {
	namespaceLabels map[string]labels.Set
	gateways        map[types.NamespacedName]*gwv1.Gateway
	routes          map[types.NamespacedName]*gwv1.HTTPRoute
	secrets         map[types.NamespacedName]*corev1.Secret
	secretsByNS     map[string][]*corev1.Secret
	services        map[types.NamespacedName]*corev1.Service
	slicesByService map[types.NamespacedName][]*discoveryv1.EndpointSlice
	grantsByNS      map[string][]*gwv1.ReferenceGrant
	// certificates memoises certificateOf.
	certificates map[types.NamespacedName]parsedCertificate
}

func newIndex(in *Inputs) *index {
	ix := &index{
		namespaceLabels: make(map[string]labels.Set, len(in.Namespaces)),
		gateways:        make(map[types.NamespacedName]*gwv1.Gateway, len(in.Gateways)),
		routes:          make(map[types.NamespacedName]*gwv1.HTTPRoute, len(in.HTTPRoutes)),
		secrets:         make(map[types.NamespacedName]*corev1.Secret, len(in.Secrets)),
		secretsByNS:     map[string][]*corev1.Secret{},
		services:        make(map[types.NamespacedName]*corev1.Service, len(in.Services)),
		slicesByService: map[types.NamespacedName][]*discoveryv1.EndpointSlice{},
		grantsByNS:      map[string][]*gwv1.ReferenceGrant{},
		certificates:    map[types.NamespacedName]parsedCertificate{},
	}
	for i := range in.Namespaces {
		ns := &in.Namespaces[i]
		set := make(labels.Set, len(ns.Labels)+1)
		for k, v := range ns.Labels {
			set[k] = v
		}
		set[namespaceNameLabel] = ns.Name
		ix.namespaceLabels[ns.Name] = set
	}
	for i := range in.Gateways {
		gw := &in.Gateways[i]
		ix.gateways[keyOf(gw.Namespace, gw.Name)] = gw
	}
	for i := range in.HTTPRoutes {
		r := &in.HTTPRoutes[i]
		ix.routes[keyOf(r.Namespace, r.Name)] = r
	}
	secrets := in.Secrets
	if mutant.On(mutant.SecretUpdatesIgnored) || mutant.On(mutant.DeletedSecretKeysKept) {
		secrets = mutatedSecrets(secrets)
	}
	for i := range secrets {
		s := &secrets[i]
		ix.secrets[keyOf(s.Namespace, s.Name)] = s
		ix.secretsByNS[s.Namespace] = append(ix.secretsByNS[s.Namespace], s)
	}
	for _, list := range ix.secretsByNS {
		slices.SortFunc(list, func(a, b *corev1.Secret) int { return cmp.Compare(a.Name, b.Name) })
	}
	for i := range in.Services {
		s := &in.Services[i]
		ix.services[keyOf(s.Namespace, s.Name)] = s
	}
	for i := range in.EndpointSlices {
		es := &in.EndpointSlices[i]
		svc := es.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		k := keyOf(es.Namespace, svc)
		ix.slicesByService[k] = append(ix.slicesByService[k], es)
	}
	for _, list := range ix.slicesByService {
		slices.SortFunc(list, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
	}
	for i := range in.ReferenceGrants {
		g := &in.ReferenceGrants[i]
		ix.grantsByNS[g.Namespace] = append(ix.grantsByNS[g.Namespace], g)
	}
	for _, list := range ix.grantsByNS {
		slices.SortFunc(list, func(a, b *gwv1.ReferenceGrant) int { return cmp.Compare(a.Name, b.Name) })
	}
	return ix
}

// labelsOf returns a namespace's labels; an unknown namespace has only its
// name label, as the API server would give it.
func (ix *index) labelsOf(namespace string) labels.Set {
	if set, ok := ix.namespaceLabels[namespace]; ok {
		return set
	}
	return labels.Set{namespaceNameLabel: namespace}
}

// olderFirst orders objects as Gateway API and kgateway break ties: oldest
// creationTimestamp first, then namespace/name.
func olderFirst(a, b *metav1.ObjectMeta) int {
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

func compareKeys(a, b types.NamespacedName) int {
	if c := cmp.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}
