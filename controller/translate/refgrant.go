package translate

import (
	"k8s.io/apimachinery/pkg/types"

	"github.com/keyconform/keyconform/internal/mutant"
)

// Group names used in references and grants.
const (
	gatewayGroup = "gateway.networking.k8s.io"
	policyGroup  = "gateway.kgateway.dev"
	coreGroup    = ""
)

// referrer is the kind of object making a cross-namespace reference.
type referrer struct {
	group, kind, namespace string
}

// referenceGranted reports whether a ReferenceGrant in the target's
// namespace lets objects of from's kind in from's namespace reference the
// target (group/kind, optionally by name). Same-namespace references need
// no grant.
func (ix *index) referenceGranted(from referrer, toGroup, toKind string, to types.NamespacedName) bool {
	if from.namespace == to.Namespace || mutant.On(mutant.CrossNamespaceNoGrant) {
		return true
	}
	for _, g := range ix.grantsByNS[to.Namespace] {
		fromOK := false
		for _, f := range g.Spec.From {
			if string(f.Group) == from.group && string(f.Kind) == from.kind && string(f.Namespace) == from.namespace {
				fromOK = true
				break
			}
		}
		if !fromOK {
			continue
		}
		for _, t := range g.Spec.To {
			if string(t.Group) == toGroup && string(t.Kind) == toKind && (t.Name == nil || string(*t.Name) == to.Name) {
				return true
			}
		}
	}
	return false
}
