package scenario

import "fmt"

// ExpectPolicy waits until every status ancestor entry of the policy name
// (as the run's dialect renders it) carries condition c.
func ExpectPolicy(name string, c Condition) Step {
	return ConditionStep{Ref: Ref{Kind: PolicyKind, Name: name}, Condition: c}
}

// ExpectRoute waits until every status parent entry of the HTTPRoute name
// carries condition c.
func ExpectRoute(name string, c Condition) Step {
	return ConditionStep{Ref: Ref{Kind: HTTPRouteKind, Name: name}, Condition: c}
}

// ExpectGateway waits until the Gateway name's own status carries
// condition c.
func ExpectGateway(name string, c Condition) Step {
	return ConditionStep{Ref: Ref{Kind: GatewayKind, Name: name}, Condition: c}
}

// ExpectListener waits until listener of the Gateway name carries
// condition c.
func ExpectListener(name, listener string, c Condition) Step {
	return ConditionStep{Ref: Ref{Kind: GatewayKind, Name: name}, Listener: listener, Condition: c}
}

// ConditionStep is the step ExpectPolicy, ExpectRoute, ExpectGateway and
// ExpectListener build.
type ConditionStep struct {
	Ref       Ref
	Listener  string // a listener of the Gateway Ref; empty for the object's own entries
	Condition Condition
}

func (ConditionStep) step() {}

func (s ConditionStep) Describe(rn *Renderer) string {
	what := s.Ref.Name
	if s.Listener != "" {
		what += " listener " + s.Listener
	}
	return fmt.Sprintf("expect %s %s status %s", s.Ref.Kind.Kind, what, s.Condition.Describe(rn))
}
