package translate

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/types/known/anypb"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
)

// level is where a policy attaches, from least to most specific.
type level int

const (
	levelGateway level = iota
	levelListener
	levelRoute
	levelRule
)

// targetKey identifies one attachment point: a Gateway (optionally one
// listener) or an HTTPRoute (optionally one rule).
type targetKey struct {
	level   level
	object  types.NamespacedName
	section string
}

// policyModel is a TrafficPolicy resolved against the managed Gateways.
type policyModel struct {
	obj *v1alpha1.TrafficPolicy
	key types.NamespacedName

	// config is the per-filter config to place; nil when the policy has no
	// apiKeyAuth or (invalid != "") cannot be built.
	config  *anypb.Any
	invalid string

	targets []*policyTarget
	missing []missingTarget
}

// policyTarget is one resolved targetRef.
type policyTarget struct {
	key      targetKey
	gateways []*gatewayModel // managed Gateways it reaches
	won      bool            // the oldest apiKeyAuth policy on key
}

// missingTarget is a targetRef that names nothing (or nothing usable).
type missingTarget struct {
	ref     gwv1.ParentReference
	message string
}

// hasAuth reports whether the policy configures API key auth at all; other
// TrafficPolicies neither take part in precedence nor change routes.
func (p *policyModel) hasAuth() bool { return p.obj.Spec.APIKeyAuth != nil }

// policies is every TrafficPolicy, oldest first, and the winner at each
// attachment point.
type policies struct {
	list    []*policyModel
	winners map[targetKey]*policyModel
}

func resolvePolicies(ix *index, in *Inputs, gateways []*gatewayModel, routes []*routeModel) *policies {
	gwByKey := make(map[types.NamespacedName]*gatewayModel, len(gateways))
	for _, g := range gateways {
		gwByKey[g.key] = g
	}
	routeByKey := make(map[types.NamespacedName]*routeModel, len(routes))
	for _, r := range routes {
		routeByKey[r.key] = r
	}

	ps := &policies{winners: map[targetKey]*policyModel{}}
	for i := range in.TrafficPolicies {
		tp := &in.TrafficPolicies[i]
		p := &policyModel{obj: tp, key: keyOf(tp.Namespace, tp.Name)}
		for j := range tp.Spec.TargetRefs {
			resolveTarget(ix, p, &tp.Spec.TargetRefs[j], gwByKey, routeByKey)
		}
		ps.list = append(ps.list, p)
	}
	slices.SortFunc(ps.list, func(a, b *policyModel) int { return olderFirst(&a.obj.ObjectMeta, &b.obj.ObjectMeta) })

	for _, p := range ps.list {
		if !p.hasAuth() {
			continue
		}
		for _, t := range p.targets {
			if ps.winners[t.key] == nil {
				ps.winners[t.key] = p
				t.won = true
			}
		}
		if len(p.targets) > 0 {
			p.config, p.invalid = perRouteConfig(ix, p.obj)
		}
	}
	return ps
}

func resolveTarget(ix *index, p *policyModel, ref *gwv1.LocalPolicyTargetReferenceWithSectionName,
	gwByKey map[types.NamespacedName]*gatewayModel, routeByKey map[types.NamespacedName]*routeModel) {
	key := keyOf(p.obj.Namespace, string(ref.Name))
	section := ""
	if ref.SectionName != nil {
		section = string(*ref.SectionName)
	}
	missing := func(format string, args ...any) {
		p.missing = append(p.missing, missingTarget{ref: targetAsAncestor(p.obj.Namespace, ref), message: fmt.Sprintf(format, args...)})
	}
	if ref.Group != gatewayGroup || (ref.Kind != kindGateway && ref.Kind != kindHTTPRoute) {
		missing("target %s/%s %s is not supported: target a Gateway or an HTTPRoute of group %s", ref.Group, ref.Kind, key, gatewayGroup)
		return
	}
	if ref.Kind == kindGateway {
		gw := gwByKey[key]
		switch {
		case gw == nil && ix.gateways[key] != nil:
			return // another controller's Gateway
		case gw == nil:
			missing("target Gateway %s not found", key)
		case section == "":
			p.targets = append(p.targets, &policyTarget{key: targetKey{levelGateway, key, ""}, gateways: []*gatewayModel{gw}})
		case gw.listener(section) == nil:
			missing("target listener %q not found on Gateway %s", section, key)
		default:
			p.targets = append(p.targets, &policyTarget{key: targetKey{levelListener, key, section}, gateways: []*gatewayModel{gw}})
		}
		return
	}
	rm := routeByKey[key]
	switch {
	case rm == nil && ix.routes[key] != nil:
		return // a route of other controllers' Gateways only
	case rm == nil:
		missing("target HTTPRoute %s not found", key)
	case section == "":
		p.targets = append(p.targets, &policyTarget{key: targetKey{levelRoute, key, ""}, gateways: rm.gateways()})
	case rm.ruleNamed(section) == nil:
		missing("target rule %q not found in HTTPRoute %s", section, key)
	default:
		p.targets = append(p.targets, &policyTarget{key: targetKey{levelRule, key, section}, gateways: rm.gateways()})
	}
}

func targetAsAncestor(namespace string, ref *gwv1.LocalPolicyTargetReferenceWithSectionName) gwv1.ParentReference {
	out := gwv1.ParentReference{
		Group:     new(ref.Group),
		Kind:      new(ref.Kind),
		Namespace: new(gwv1.Namespace(namespace)),
		Name:      ref.Name,
	}
	if ref.SectionName != nil {
		out.SectionName = new(*ref.SectionName)
	}
	return out
}

// effective returns the apiKeyAuth policy that applies to one rule of a
// route served through one listener, and the level it attached at: the
// most specific attachment wins, whole.
func (ps *policies) effective(l *listenerModel, rm *routeModel, rule *ruleModel) (*policyModel, level) {
	if rule.name != "" {
		if p := ps.winners[targetKey{levelRule, rm.key, rule.name}]; p != nil {
			return p, levelRule
		}
	}
	if p := ps.winners[targetKey{levelRoute, rm.key, ""}]; p != nil {
		return p, levelRoute
	}
	if p := ps.atListener(l); p != nil {
		return p, levelListener
	}
	if p := ps.atGateway(l.gateway); p != nil {
		return p, levelGateway
	}
	return nil, levelGateway
}

func (ps *policies) atListener(l *listenerModel) *policyModel {
	return ps.winners[targetKey{levelListener, l.gateway.key, l.name}]
}

func (ps *policies) atGateway(g *gatewayModel) *policyModel {
	return ps.winners[targetKey{levelGateway, g.key, ""}]
}
