package scenario

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition is what a status condition must say. Status or Reason empty
// means any; MessageContains are templates that must all appear in the
// message. Even with any status, the condition must be there for the
// object's current generation: the controller has seen the latest spec.
type Condition struct {
	Type            string
	Status          metav1.ConditionStatus
	Reason          string
	MessageContains []string
}

// Describe shows the condition with placeholders for keys.
func (c Condition) Describe(rn *Renderer) string {
	status := string(c.Status)
	if status == "" {
		status = "<any>"
	}
	s := fmt.Sprintf("%s=%s", c.Type, status)
	if c.Reason != "" {
		s += " reason " + c.Reason
	}
	for _, m := range c.MessageContains {
		s += fmt.Sprintf(", message containing %q", rn.Describe(m))
	}
	return s
}
