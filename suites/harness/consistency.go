package harness

import (
	"context"
	"time"
)

// streak is how an eventually consistent check ended.
type streak struct {
	Held     bool
	Attempts int
	// Matches is the length of the last run of matching attempts.
	Matches int
	// FirstMatch is when the final run of matches began: the moment the
	// system became consistent, as far as the suite can see.
	FirstMatch time.Time
	Elapsed    time.Duration
}

// awaitConsistent calls attempt until it returns true required times in a
// row, pausing poll between calls, for at most max (Gateway API's
// MakeRequestAndExpectEventuallyConsistentResponse). Any mismatch restarts
// the count. It always makes at least one attempt.
func awaitConsistent(ctx context.Context, poll, max time.Duration, required int, attempt func(context.Context) bool) streak {
	start := time.Now()
	deadline := start.Add(max)
	var s streak
	for {
		now := time.Now()
		if s.Attempts > 0 && !now.Before(deadline) {
			break
		}
		s.Attempts++
		if attempt(ctx) {
			if s.Matches == 0 {
				s.FirstMatch = now
			}
			s.Matches++
			if s.Matches >= required {
				s.Held = true
				break
			}
		} else {
			s.Matches = 0
		}
		wait := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			wait.Stop()
			s.Elapsed = time.Since(start)
			return s
		case <-wait.C:
		}
	}
	s.Elapsed = time.Since(start)
	return s
}
