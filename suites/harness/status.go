package harness

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/keyconform/keyconform/suites/scenario"
)

// expectCondition runs ExpectPolicy, ExpectRoute, ExpectGateway and
// ExpectListener: it waits until the live object's status carries the
// condition, and fails at once if that status holds a key.
func (x *execution) expectCondition(ctx context.Context, s scenario.ConditionStep) error {
	ns, err := x.namespaceOf(s.Ref)
	if err != nil {
		return err
	}
	messages := make([]string, len(s.Condition.MessageContains))
	for i, m := range s.Condition.MessageContains {
		if messages[i], err = x.render.Render("condition message", m); err != nil {
			return err
		}
	}
	var diffs []string
	var leak string
	held := func(u *unstructured.Unstructured, err error) bool {
		if err != nil {
			diffs = []string{err.Error()}
			return false
		}
		if l := x.leakIn(*u); l != "" {
			leak = l
			return true
		}
		diffs = checkListenerConditions(u, s.Listener, s.Condition, messages)
		return len(diffs) == 0
	}
	err = follow(ctx, x.res, x.kind(s.Ref.Kind), ns, s.Ref.Name, x.timeouts.StatusTimeout, x.timeouts.APITimeout, held)
	kind := x.kind(s.Ref.Kind).Kind
	if leak != "" {
		return fmt.Errorf("%s %s/%s status contains an API key: %s", kind, ns, s.Ref.Name, leak)
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s/%s status did not reach %s within %v\nactual: %s",
		kind, ns, s.Ref.Name, s.Condition.Describe(x.render), x.timeouts.StatusTimeout, strings.Join(diffs, "\n        "))
}
