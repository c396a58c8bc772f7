package harness

import (
	"context"
	"fmt"
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
		return s.mismatch(x, addr, fmt.Sprintf("response %d of the %d that must each match, once consistent, did not", i, s.each), got, err, diffs)
	}
	return nil
}
