package scenario

// Step is one action or expectation of a scenario: data the harness
// interprets, one case per step type. Build steps with the constructors
// (Apply, Delete, Patch, Expect, ExpectEach, ExpectPolicy, ExpectRoute,
// ExpectGateway, ExpectListener, Pause, Only).
type Step interface {
	// Describe says what the step does, keys shown as placeholders: the
	// run's log shows it, and a failure names the step by its first line.
	Describe(rn *Renderer) string
	// step closes the set of step types, so every step a scenario holds
	// is one the harness knows how to run.
	step()
}
