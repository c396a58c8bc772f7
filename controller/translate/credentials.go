package translate

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
	"github.com/keyconform/keyconform/internal/mutant"
)

// Messages built here reach status: they name Secrets and clients, never a
// key value.

// maxListed bounds how many Secrets or conflicts one message lists.
const maxListed = 10

// policySecrets returns the Secrets a policy's apiKeyAuth reads keys from,
// or why it cannot read any.
func (ix *index) policySecrets(tp *v1alpha1.TrafficPolicy) ([]*corev1.Secret, string) {
	auth := tp.Spec.APIKeyAuth
	from := referrer{group: policyGroup, kind: "TrafficPolicy", namespace: tp.Namespace}
	switch {
	case auth.SecretRef != nil:
		ref := auth.SecretRef
		group, kind := coreGroup, kindSecret
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		if group != coreGroup || kind != kindSecret {
			return nil, fmt.Sprintf("secretRef must name a core Secret, not %s/%s", group, kind)
		}
		ns := tp.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		key := keyOf(ns, string(ref.Name))
		if !ix.referenceGranted(from, coreGroup, kindSecret, key) {
			return nil, fmt.Sprintf("Secret %s is in another namespace and no ReferenceGrant in namespace %s allows TrafficPolicies from namespace %s to reference it",
				key, ns, tp.Namespace)
		}
		s := ix.secrets[key]
		if s == nil {
			return nil, fmt.Sprintf("Secret %s not found", key)
		}
		return []*corev1.Secret{s}, ""
	case auth.SecretSelector != nil:
		match := auth.SecretSelector.MatchLabels
		selector := labels.SelectorFromSet(match)
		namespaces := ix.grantingNamespaces(from)
		var out []*corev1.Secret
		for _, ns := range namespaces {
			for _, s := range ix.secretsByNS[ns] {
				// An empty selector selects labelled Secrets only, as
				// kgateway's does: an unlabelled Secret is never a key store
				// by accident (docs/spec.md API-06).
				if len(match) == 0 && len(s.Labels) == 0 {
					continue
				}
				if selector.Matches(labels.Set(s.Labels)) && ix.referenceGranted(from, coreGroup, kindSecret, keyOf(s.Namespace, s.Name)) {
					out = append(out, s)
				}
			}
		}
		if mutant.On(mutant.SelectorEvaluatedOnce) {
			out = ix.firstSelection(tp, out)
		}
		if len(out) == 0 {
			desc := selector.String()
			if desc == "" {
				desc = "{} (any labelled Secret)"
			}
			return nil, fmt.Sprintf("no Secret matches secretSelector %s in namespace(s) %s",
				desc, strings.Join(namespaces, ", "))
		}
		return out, ""
	}
	return nil, "apiKeyAuth sets none of secretRef, secretSelector or disable"
}

// grantingNamespaces is the referrer's namespace followed by every other
// namespace with a ReferenceGrant that lets it reference Secrets there.
func (ix *index) grantingNamespaces(from referrer) []string {
	var others []string
	for ns, grants := range ix.grantsByNS {
		if ns == from.namespace {
			continue
		}
		if slices.ContainsFunc(grants, func(g *gwv1.ReferenceGrant) bool { return grantsSecrets(g, from) }) {
			others = append(others, ns)
		}
	}
	slices.Sort(others)
	return append([]string{from.namespace}, others...)
}

func grantsSecrets(g *gwv1.ReferenceGrant, from referrer) bool {
	fromOK := slices.ContainsFunc(g.Spec.From, func(f gwv1.ReferenceGrantFrom) bool {
		return string(f.Group) == from.group && string(f.Kind) == from.kind && string(f.Namespace) == from.namespace
	})
	return fromOK && slices.ContainsFunc(g.Spec.To, func(t gwv1.ReferenceGrantTo) bool {
		return string(t.Group) == coreGroup && string(t.Kind) == kindSecret
	})
}

// secretEntry is one data entry of a Secret: client id and key.
type secretEntry struct {
	client, key, secret string
}

// collectCredentials turns every non-empty entry of the Secrets into a
// credential, sorted by client then key. The same client and key seen
// twice is one credential; one key held by two clients is an error, since
// Envoy rejects duplicated keys and the client id must be unambiguous.
func collectCredentials(secrets []*corev1.Secret) ([]*apikeyauthv3.Credential, string) {
	var entries []secretEntry
	var bad []string
	for _, s := range secrets {
		name := s.Namespace + "/" + s.Name
		add := func(client, key string) {
			switch {
			case key == "" && !mutant.On(mutant.EmptyKeyAccepted):
			case client == "":
				// The API server refuses such a Secret; a client id must
				// not be empty for Envoy either.
				bad = append(bad, fmt.Sprintf("Secret %s has an entry with an empty name, which cannot be a client id", name))
			case !utf8.ValidString(key):
				bad = append(bad, fmt.Sprintf("Secret %s entry %q is not UTF-8 text", name, client))
			default:
				entries = append(entries, secretEntry{client: client, key: key, secret: name})
			}
		}
		if len(s.StringData) == 0 {
			for client, v := range s.Data {
				add(client, string(v))
			}
			continue
		}
		// stringData is what a manifest writes; the API server folds it
		// into data, stringData winning.
		merged := make(map[string]string, len(s.Data)+len(s.StringData))
		for client, v := range s.Data {
			merged[client] = string(v)
		}
		maps.Copy(merged, s.StringData)
		for client, v := range merged {
			add(client, v)
		}
	}
	slices.SortFunc(entries, func(a, b secretEntry) int {
		return cmp.Or(cmp.Compare(a.client, b.client), cmp.Compare(a.key, b.key), cmp.Compare(a.secret, b.secret))
	})

	creds := make([]*apikeyauthv3.Credential, 0, len(entries))
	holder := make(map[string]secretEntry, len(entries))
	var conflicts []string
	for _, e := range entries {
		prev, dup := holder[e.key]
		if !dup {
			holder[e.key] = e
			creds = append(creds, &apikeyauthv3.Credential{Key: e.key, Client: e.client})
			continue
		}
		if prev.client != e.client && !mutant.On(mutant.DuplicateKeyResolved) {
			conflicts = append(conflicts, fmt.Sprintf("client %q in Secret %s and client %q in Secret %s hold the same API key",
				prev.client, prev.secret, e.client, e.secret))
		}
	}
	slices.Sort(bad)
	var why []string
	if len(bad) > 0 {
		why = append(why, listSome(bad, "; "))
	}
	if len(conflicts) > 0 {
		why = append(why, listSome(conflicts, "; ")+"; give every client its own key")
	}
	if len(why) > 0 {
		return nil, strings.Join(why, "; ")
	}
	if len(creds) == 0 {
		names := make([]string, 0, len(secrets))
		for _, s := range secrets {
			names = append(names, s.Namespace+"/"+s.Name)
		}
		return nil, fmt.Sprintf("Secret(s) %s hold no non-empty API key", listSome(names, ", "))
	}
	return creds, ""
}

// listSome joins up to maxListed items and says how many were left out.
func listSome(items []string, sep string) string {
	if len(items) <= maxListed {
		return strings.Join(items, sep)
	}
	return fmt.Sprintf("%s%sand %d more", strings.Join(items[:maxListed], sep), sep, len(items)-maxListed)
}
