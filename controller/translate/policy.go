package translate

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/anypb"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
	"github.com/keyconform/keyconform/internal/mutant"
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

// policyWeightAnnotation orders policies attached at the same place:
// higher first, then oldest (kgateway's PolicyPrecedenceWeight, in
// api/annotations of kgateway-dev/kgateway; docs/spec.md ATT-08).
const policyWeightAnnotation = "kgateway.dev/policy-weight"

// policyModel is a TrafficPolicy resolved against the managed Gateways.
type policyModel struct {
	obj    *v1alpha1.TrafficPolicy
	key    types.NamespacedName
	weight int32

	// config is the per-filter config to place; nil when the policy has no
	// apiKeyAuth or (invalid != "") cannot be built.
	config  *anypb.Any
	invalid string

	targets []*policyTarget
	missing []string // targetRefs that resolve to nothing usable, as kgateway words them
}

// policyTarget is one resolved targetRef or selected target.
type policyTarget struct {
	key      targetKey
	gateways []*gatewayModel // managed Gateways it reaches
	won      bool            // the first apiKeyAuth policy on key
}

// hasAuth reports whether the policy configures API key auth at all; other
// TrafficPolicies neither take part in precedence nor change routes.
func (p *policyModel) hasAuth() bool { return p.obj.Spec.APIKeyAuth != nil }

// policies is every TrafficPolicy in precedence order (higher weight,
// then oldest), the winner at each attachment point, and every apiKeyAuth
// policy attached there.
type policies struct {
	list     []*policyModel
	winners  map[targetKey]*policyModel
	attached map[targetKey][]*policyModel
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
	r := targetResolver{ix: ix, in: in, gateways: gwByKey, routes: routeByKey}

	ps := &policies{winners: map[targetKey]*policyModel{}, attached: map[targetKey][]*policyModel{}}
	for i := range in.TrafficPolicies {
		tp := &in.TrafficPolicies[i]
		p := &policyModel{obj: tp, key: keyOf(tp.Namespace, tp.Name)}
		for j := range tp.Spec.TargetRefs {
			ref := &tp.Spec.TargetRefs[j]
			r.resolve(p, string(ref.Group), string(ref.Kind), string(ref.Name), sectionOf(ref.SectionName))
		}
		for j := range tp.Spec.TargetSelectors {
			r.selectTargets(p, &tp.Spec.TargetSelectors[j])
		}
		ps.list = append(ps.list, p)
	}
	weightErrors := map[*policyModel]string{}
	for _, p := range ps.list {
		w, err := policyWeight(p.obj.Annotations)
		p.weight = w
		if err != "" {
			weightErrors[p] = err
		}
	}
	slices.SortFunc(ps.list, func(a, b *policyModel) int {
		if a.weight != b.weight {
			return cmp.Compare(b.weight, a.weight)
		}
		if mutant.On(mutant.NewestPolicyWins) {
			return olderFirst(&b.obj.ObjectMeta, &a.obj.ObjectMeta)
		}
		return olderFirst(&a.obj.ObjectMeta, &b.obj.ObjectMeta)
	})

	for _, p := range ps.list {
		if !p.hasAuth() || (mutant.On(mutant.DisableIgnored) && p.obj.Spec.APIKeyAuth.Disable != nil) {
			continue
		}
		for _, t := range p.targets {
			if ps.winners[t.key] == nil {
				ps.winners[t.key] = p
				t.won = true
			}
			ps.attached[t.key] = append(ps.attached[t.key], p)
		}
		if len(p.targets) > 0 {
			p.config, p.invalid = perRouteConfig(ix, p.obj)
			if err := weightErrors[p]; err != "" {
				// kgateway makes a bad weight one of the policy's errors,
				// so the policy fails closed like any other invalid one.
				p.config, p.invalid = nil, joinProblems(err, p.invalid)
			}
		}
	}
	return ps
}

// policyWeight reads the policy-weight annotation: absent is 0, anything
// but a 32-bit integer is an error worded as kgateway words it.
func policyWeight(annotations map[string]string) (int32, string) {
	v, ok := annotations[policyWeightAnnotation]
	if !ok || mutant.On(mutant.PolicyWeightIgnored) {
		return 0, ""
	}
	w, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, fmt.Sprintf("invalid value for annotation %s: %s; must be a valid integer", policyWeightAnnotation, v)
	}
	return int32(w), ""
}

func joinProblems(msgs ...string) string {
	return strings.Join(slices.DeleteFunc(msgs, func(m string) bool { return m == "" }), "; ")
}

func sectionOf(s *gwv1.SectionName) string {
	if s == nil {
		return ""
	}
	return string(*s)
}

// targetResolver resolves targetRefs and targetSelectors to attachment
// points of managed Gateways.
type targetResolver struct {
	ix       *index
	in       *Inputs
	gateways map[types.NamespacedName]*gatewayModel
	routes   map[types.NamespacedName]*routeModel
}

// selectTargets attaches p to every Gateway or HTTPRoute of its namespace
// whose labels include the selector's; a selector that selects nothing is
// not an error.
func (r targetResolver) selectTargets(p *policyModel, sel *v1alpha1.TargetSelector) {
	group, kind, section := string(sel.Group), string(sel.Kind), sectionOf(sel.SectionName)
	if group != gatewayGroup || (kind != kindGateway && kind != kindHTTPRoute) {
		p.missing = append(p.missing, fmt.Sprintf("targetSelector of %s is not supported by this controller: select Gateways or HTTPRoutes of group %s",
			describeGroupKind(group, kind), gatewayGroup))
		return
	}
	match := labels.SelectorFromSet(sel.MatchLabels)
	var names []string
	if kind == kindGateway {
		for i := range r.in.Gateways {
			if g := &r.in.Gateways[i]; g.Namespace == p.obj.Namespace && match.Matches(labels.Set(g.Labels)) {
				names = append(names, g.Name)
			}
		}
	} else {
		for i := range r.in.HTTPRoutes {
			if rt := &r.in.HTTPRoutes[i]; rt.Namespace == p.obj.Namespace && match.Matches(labels.Set(rt.Labels)) {
				names = append(names, rt.Name)
			}
		}
	}
	slices.Sort(names)
	for _, name := range names {
		r.resolve(p, group, kind, name, section)
	}
}

func describeGroupKind(group, kind string) string {
	if group == "" {
		return "core/" + kind
	}
	return group + "/" + kind
}

// resolve attaches p to one named target. A target that does not exist is
// recorded as kgateway reports it ("<Kind> <ns>/<name> not found"); a kind
// this controller does not serve says so.
func (r targetResolver) resolve(p *policyModel, group, kind, name, section string) {
	key := keyOf(p.obj.Namespace, name)
	if group != gatewayGroup || (kind != kindGateway && kind != kindHTTPRoute) {
		p.missing = append(p.missing, fmt.Sprintf("%s %s is not supported as a target by this controller: target Gateways or HTTPRoutes of group %s",
			describeGroupKind(group, kind), key, gatewayGroup))
		return
	}
	add := func(t targetKey, gateways []*gatewayModel) {
		if !slices.ContainsFunc(p.targets, func(pt *policyTarget) bool { return pt.key == t }) {
			p.targets = append(p.targets, &policyTarget{key: t, gateways: gateways})
		}
	}
	if kind == kindGateway {
		gw := r.gateways[key]
		switch {
		case gw == nil && r.ix.gateways[key] != nil:
			return // another controller's Gateway
		case gw == nil:
			p.missing = append(p.missing, fmt.Sprintf("%s %s not found", kind, key))
		case section == "" || mutant.On(mutant.ListenerSectionIgnored):
			add(targetKey{levelGateway, key, ""}, []*gatewayModel{gw})
		case gw.listener(section) == nil:
			p.missing = append(p.missing, fmt.Sprintf("sectionName %q not found in %s %s", section, kind, key))
		default:
			add(targetKey{levelListener, key, section}, []*gatewayModel{gw})
		}
		return
	}
	rm := r.routes[key]
	switch {
	case rm == nil && r.ix.routes[key] != nil:
		return // a route of other controllers' Gateways only
	case rm == nil:
		p.missing = append(p.missing, fmt.Sprintf("%s %s not found", kind, key))
	case section == "" || mutant.On(mutant.RuleSectionIgnored):
		add(targetKey{levelRoute, key, ""}, rm.gateways())
	case rm.ruleNamed(section) == nil:
		p.missing = append(p.missing, fmt.Sprintf("sectionName %q not found in %s %s", section, kind, key))
	default:
		add(targetKey{levelRule, key, section}, rm.gateways())
	}
}

// invalidAt lists the invalid apiKeyAuth policies attached at t, whatever
// their precedence: kgateway merges every policy attached at one place and
// any one's errors replace what they cover (docs/spec.md FC-06).
func (ps *policies) invalidAt(t targetKey) []*policyModel {
	var out []*policyModel
	for _, p := range ps.attached[t] {
		if p.invalid != "" {
			out = append(out, p)
		}
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
	return ps.winners[listenerTarget(l)]
}

func listenerTarget(l *listenerModel) targetKey {
	return targetKey{levelListener, l.gateway.key, l.name}
}

// invalidOn lists the invalid policies attached to a rule by name or to
// its whole route: kgateway merges both levels into one set per route.
func (ps *policies) invalidOn(rm *routeModel, rule *ruleModel) []*policyModel {
	var out []*policyModel
	if rule.name != "" {
		out = ps.invalidAt(targetKey{levelRule, rm.key, rule.name})
	}
	for _, p := range ps.invalidAt(targetKey{levelRoute, rm.key, ""}) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func (ps *policies) atGateway(g *gatewayModel) *policyModel {
	return ps.winners[targetKey{levelGateway, g.key, ""}]
}
