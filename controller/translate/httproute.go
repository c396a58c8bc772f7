package translate

import (
	"fmt"
	"slices"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// routeModel is an HTTPRoute that references at least one managed Gateway:
// its rules compiled once, whatever Gateway they end up on.
type routeModel struct {
	obj     *gwv1.HTTPRoute
	key     types.NamespacedName
	rules   []*ruleModel
	refs    problems       // ResolvedRefs=False when not empty
	parents []*parentModel // one per parentRef to a managed Gateway, in spec order
}

// ruleModel is one HTTPRoute rule ready to become Envoy routes.
type ruleModel struct {
	index    int
	name     string
	matches  []*compiledMatch
	dropped  []string             // matches that cannot be translated
	action   *routev3.Route_Route // nil: no valid backend, Envoy answers 500
	backends []backend
	filters  ruleFilters // what the rule's filters do to its routes
}

func compileRoute(ix *index, r *gwv1.HTTPRoute) *routeModel {
	rm := &routeModel{obj: r, key: keyOf(r.Namespace, r.Name)}
	for i := range r.Spec.Rules {
		rm.rules = append(rm.rules, compileRule(ix, r, i, &rm.refs))
	}
	return rm
}

func compileRule(ix *index, r *gwv1.HTTPRoute, i int, refs *problems) *ruleModel {
	spec := &r.Spec.Rules[i]
	rule := &ruleModel{index: i}
	if spec.Name != nil {
		rule.name = string(*spec.Name)
	}
	matches := spec.Matches
	if len(matches) == 0 {
		matches = []gwv1.HTTPRouteMatch{{}} // the API default: PathPrefix "/"
	}
	for j := range matches {
		m, err := compileMatch(j, &matches[j])
		if err != nil {
			rule.dropped = append(rule.dropped, fmt.Sprintf("matches[%d].%v", j, err))
			continue
		}
		rule.matches = append(rule.matches, m)
	}
	rule.filters = compileFilters(spec)
	var invalidWeight uint32
	rule.backends, invalidWeight = resolveBackends(ix, r, i, spec.BackendRefs, refs)
	rule.action = backendAction(rule.backends, invalidWeight)
	return rule
}

// ruleNamed finds a rule by name (a TrafficPolicy sectionName).
func (rm *routeModel) ruleNamed(name string) *ruleModel {
	for _, r := range rm.rules {
		if r.name == name {
			return r
		}
	}
	return nil
}

// gateways returns the managed Gateways that accepted the route, by key.
func (rm *routeModel) gateways() []*gatewayModel {
	var out []*gatewayModel
	for _, p := range rm.parents {
		if p.accepted() && !slices.Contains(out, p.gateway) {
			out = append(out, p.gateway)
		}
	}
	slices.SortFunc(out, func(a, b *gatewayModel) int { return compareKeys(a.key, b.key) })
	return out
}

// parentModel is one parentRef of a route to a managed Gateway.
type parentModel struct {
	ref         gwv1.ParentReference
	gateway     *gatewayModel
	notAccepted problems
	dropped     map[int]droppedRule // by rule index, filled while building routes
}

// droppedRule is why the routes of one rule answer 500 instead of
// forwarding (or, for untranslatable matches, are left out).
type droppedRule struct {
	reason, message string
}

func (p *parentModel) accepted() bool { return p.notAccepted.empty() }

// drop records that a rule's routes were replaced or left out.
func (p *parentModel) drop(rule int, reason, message string) {
	if p.dropped == nil {
		p.dropped = map[int]droppedRule{}
	}
	if _, seen := p.dropped[rule]; !seen {
		p.dropped[rule] = droppedRule{reason: reason, message: message}
	}
}

func (p *parentModel) status(rm *routeModel, controller gwv1.GatewayController) gwv1.RouteParentStatus {
	gen := rm.obj.Generation
	var accepted metav1.Condition
	switch {
	case !p.notAccepted.empty():
		accepted = condition(string(gwv1.RouteConditionAccepted), false, p.notAccepted.reason, p.notAccepted.message(), gen)
	case len(p.dropped) > 0:
		// kgateway's convention: Accepted=False with a "Dropped Rule (n)" or
		// "Replaced Rule (n)" message per rule.
		rules := make([]int, 0, len(p.dropped))
		for i := range p.dropped {
			rules = append(rules, i)
		}
		slices.Sort(rules)
		var why problems
		for _, i := range rules {
			d := p.dropped[i]
			verb := "Dropped"
			if d.reason == reasonRouteRuleReplaced {
				verb = "Replaced"
			}
			why.add(d.reason, fmt.Sprintf("%s Rule (%d): %s", verb, i, d.message))
		}
		accepted = condition(string(gwv1.RouteConditionAccepted), false, why.reason, why.message(), gen)
	default:
		accepted = condition(string(gwv1.RouteConditionAccepted), true, string(gwv1.RouteReasonAccepted), "Route is accepted", gen)
	}
	resolved := condition(string(gwv1.RouteConditionResolvedRefs), true, string(gwv1.RouteReasonResolvedRefs), "All references resolved", gen)
	if !rm.refs.empty() {
		resolved = condition(string(gwv1.RouteConditionResolvedRefs), false, rm.refs.reason, rm.refs.message(), gen)
	}
	return gwv1.RouteParentStatus{
		ParentRef:      *p.ref.DeepCopy(),
		ControllerName: controller,
		Conditions:     []metav1.Condition{accepted, resolved},
	}
}

// byAge orders routes for attachment and precedence ties.
func byAge(a, b *routeModel) int {
	return olderFirst(&a.obj.ObjectMeta, &b.obj.ObjectMeta)
}
