// Package scenario is the language conformance scenarios are written in,
// usable without a cluster: a Scenario is manifests and steps, and a step
// is data (apply these files, send this request and expect that response,
// wait for that status condition). Scenario authors build steps with the
// constructors (Apply, Expect, ExpectPolicy, Only, ...); the harness
// package interprets them against a live implementation.
//
// Everything that can be known before a run lives here, so a broken
// scenario fails in a unit test rather than an hour into a cluster run:
// templates and the keys they expand to (Renderer, KeySet, Redactor),
// Validate and Lint, the policies a dialect must render (PolicyManifests,
// DialectGap), which scenarios a run selects (Selection) and the Gateway
// API conformance report built from how they ended (BuildReport).
package scenario
