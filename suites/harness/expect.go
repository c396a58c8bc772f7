package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keyconform/keyconform/suites/scenario"
)

// expect runs Expect and ExpectEach: it sends the request until the
// response matches, consistently.
func (x *execution) expect(ctx context.Context, s scenario.ExpectStep) error {
	req, err := s.Request.Render(x.render)
	if err != nil {
		return err
	}
	want := s.Response
	if want.Backend != nil {
		b, err := want.Backend.Render(x.render)
		if err != nil {
			return err
		}
		want.Backend = &b
	}
	addr, err := x.address(ctx, req.Gateway, req.Port)
	if err != nil {
		return err
	}
	// The last response that did not match explains a failure best, even
	// when a short run of matches followed it.
	var bad observed
	var badErr error
	var badDiffs []string
	st := awaitConsistent(ctx, x.timeouts.PollInterval, x.timeouts.MaxTimeToConsistency, x.timeouts.RequiredConsecutiveSuccesses,
		func(ctx context.Context) bool {
			got, err := x.send.send(ctx, addr, req)
			if err != nil {
				badErr, badDiffs = err, nil
				x.now.setDetail(func() string { return fmt.Sprintf("last request failed: %v", err) })
				return false
			}
			x.now.setDetail(func() string { return "last response: " + describeObserved(got) })
			if diffs := compare(want, req, got); len(diffs) > 0 {
				bad, badErr, badDiffs = got, nil, diffs
				return false
			}
			return true
		})
	if st.Held {
		x.consistent(st.FirstMatch)
		return x.holdsEach(ctx, s, addr, req, want)
	}
	return x.mismatch(s, addr, fmt.Sprintf("response did not match %d times in a row within %v (%d attempts, final run of matches %d)",
		x.timeouts.RequiredConsecutiveSuccesses, x.timeouts.MaxTimeToConsistency, st.Attempts, st.Matches), bad, badErr, badDiffs)
}

// mismatch is the failure of an expectation: what went wrong, the request,
// the expectation and the response that did not match (or why the request
// failed), keys shown as placeholders.
func (x *execution) mismatch(s scenario.ExpectStep, addr, headline string, got observed, err error, diffs []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", headline)
	fmt.Fprintf(&b, "request:  %s (gateway address %s)\n", s.Request.Describe(x.render), addr)
	fmt.Fprintf(&b, "expected: %s\n", s.Response.Describe(x.render))
	if err != nil {
		fmt.Fprintf(&b, "actual:   request failed: %v", err)
	} else {
		fmt.Fprintf(&b, "actual:   %s\n", describeObserved(got))
		fmt.Fprintf(&b, "mismatch: %s", strings.Join(diffs, "\n          "))
	}
	return errors.New(b.String())
}
