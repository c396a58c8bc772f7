package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ExpectEach is Expect, then n more requests in a row that must each match,
// none allowed to miss: for what varies from one request to the next, such
// as a weighted split between backends, where a run of
// --required-consecutive-successes matches can happen by luck.
func ExpectEach(n int, req Request, resp Response) Step {
	return expectStep{req: req, resp: resp, each: n}
}

func (s expectStep) describeEach() string {
	if s.each == 0 {
		return ""
	}
	return fmt.Sprintf("\n    then on each of %d more requests", s.each)
}

// holdsEach sends the s.each requests of ExpectEach once the response is
// consistent; the first that does not match fails the step.
func (s expectStep) holdsEach(ctx context.Context, x *execution, addr string, req Request, want Response) error {
	for i := 1; i <= s.each; i++ {
		got, err := x.send.send(ctx, addr, req)
		var diffs []string
		if err == nil {
			if diffs = compare(want, req, got); len(diffs) == 0 {
				continue
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "response %d of the %d that must each match, once consistent, did not\n", i, s.each)
		fmt.Fprintf(&b, "request:  %s (gateway address %s)\n", s.req.describe(x.render), addr)
		fmt.Fprintf(&b, "expected: %s\n", s.resp.describe(x.render))
		if err != nil {
			fmt.Fprintf(&b, "actual:   request failed: %v", err)
		} else {
			fmt.Fprintf(&b, "actual:   %s\n", describeObserved(got))
			fmt.Fprintf(&b, "mismatch: %s", strings.Join(diffs, "\n          "))
		}
		return errors.New(b.String())
	}
	return nil
}
