package scenario

import "fmt"

// Expect sends req until the response matches resp, consistently (the
// harness's TimeoutConfig says how long and how many times in a row).
func Expect(req Request, resp Response) Step { return ExpectStep{Request: req, Response: resp} }

// ExpectStep is the step Expect and ExpectEach build.
type ExpectStep struct {
	Request  Request
	Response Response
	// Each is how many more requests must all match once the response is
	// consistent (ExpectEach); 0 for Expect.
	Each int
}

func (ExpectStep) step() {}

func (s ExpectStep) Describe(rn *Renderer) string {
	return fmt.Sprintf("expect %s\n    → %s%s", s.Request.Describe(rn), s.Response.Describe(rn), s.describeEach())
}
