package translate

import (
	"strings"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// maxMessageBytes keeps condition messages well inside the API's 32768
// character limit, however many problems one message lists.
const maxMessageBytes = 4096

// condition builds a status condition. LastTransitionTime stays zero: the
// status writer keeps the stored time when the status is unchanged.
func condition(condType string, ok bool, reason, message string, generation int64) metav1.Condition {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	return metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            truncateMessage(message),
		ObservedGeneration: generation,
	}
}

func truncateMessage(msg string) string {
	if len(msg) <= maxMessageBytes {
		return msg
	}
	const suffix = " ... (truncated)"
	cut := maxMessageBytes - len(suffix)
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + suffix
}

// problems collects messages for one condition, in the order found.
type problems struct {
	reason string // reason of the first problem
	msgs   []string
}

func (p *problems) add(reason, msg string) {
	if p.reason == "" {
		p.reason = reason
	}
	p.msgs = append(p.msgs, msg)
}

func (p *problems) empty() bool { return len(p.msgs) == 0 }

func (p *problems) message() string { return strings.Join(p.msgs, "; ") }
