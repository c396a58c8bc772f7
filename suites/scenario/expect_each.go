package scenario

import "fmt"

// ExpectEach is Expect, then n more requests in a row that must each match,
// none allowed to miss: for what varies from one request to the next, such
// as a weighted split between backends, where a run of
// --required-consecutive-successes matches can happen by luck.
func ExpectEach(n int, req Request, resp Response) Step {
	return ExpectStep{Request: req, Response: resp, Each: n}
}

func (s ExpectStep) describeEach() string {
	if s.Each == 0 {
		return ""
	}
	return fmt.Sprintf("\n    then on each of %d more requests", s.Each)
}
