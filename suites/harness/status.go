package harness

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/e2e-framework/klient/wait"

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
	held := func(ctx context.Context) (bool, error) {
		var u *unstructured.Unstructured
		err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
			var err error
			u, err = getUnstructured(ctx, x.res, x.kind(s.Ref.Kind), ns, s.Ref.Name)
			return err
		})
		if err != nil {
			diffs = []string{err.Error()}
			return false, nil
		}
		if l := x.leakIn(*u); l != "" {
			leak = l
			return true, nil
		}
		diffs = checkListenerConditions(u, s.Listener, s.Condition, messages)
		return len(diffs) == 0, nil
	}
	err = wait.For(held, wait.WithContext(ctx), wait.WithTimeout(x.timeouts.StatusTimeout), wait.WithInterval(x.timeouts.PollInterval), wait.WithImmediate())
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
