package harness

import (
	"context"
	"fmt"

	"github.com/keyconform/keyconform/suites/scenario"
)

// holdsEach sends the s.Each requests of ExpectEach once the response is
// consistent; the first that does not match fails the step.
func (x *execution) holdsEach(ctx context.Context, s scenario.ExpectStep, addr string, req scenario.Request, want scenario.Response) error {
	for i := 1; i <= s.Each; i++ {
		got, err := x.send.send(ctx, addr, req)
		var diffs []string
		if err == nil {
			if diffs = compare(want, req, got); len(diffs) == 0 {
				continue
			}
		}
		return x.mismatch(s, addr, fmt.Sprintf("response %d of the %d that must each match, once consistent, did not", i, s.Each), got, err, diffs)
	}
	return nil
}
