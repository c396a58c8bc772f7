// Package mutant switches on, by name, one deliberate bug of the reference
// implementation (controller and sim data plane), to measure whether the
// conformance suites catch it (`make mutants`). Only a build with the
// "mutants" tag can switch one on: in any other build On is constant
// false, and the compiler drops every mutated branch and every name.
package mutant

import (
	"net/http"
	"sync"
)

// Name names one mutant; Catalog (mutants builds) says what bug it is.
type Name string

// The data plane's bugs (sim/apikeyauth, sim/dataplane).
const (
	BearerCaseInsensitive   Name = "bearer-case-insensitive"
	BearerKept              Name = "bearer-kept"
	HeaderNameCaseSensitive Name = "header-name-case-sensitive"
	LastHeaderWins          Name = "last-header-wins"
	FallThroughAfterWrong   Name = "fall-through-after-wrong-key"
	HideOnlyFoundSource     Name = "hide-only-found-source"
	CookieHidingDropsOthers Name = "cookie-hiding-drops-other-cookies"
	QueryHidingDropsOthers  Name = "query-hiding-drops-other-params"
	ClientIDAppended        Name = "client-id-appended"
	ClientIDNotSet          Name = "client-id-not-set"
	KeyCaseInsensitive      Name = "key-case-insensitive"
	Body401Changed          Name = "401-body-changed"
	ContentType401Changed   Name = "401-content-type-changed"
	Forbidden403            Name = "403-instead-of-401"
	BackendBeforeDecision   Name = "backend-reached-before-decision"
)

// The controller's bugs (controller/translate, controller/reconcile).
const (
	EmptyKeyAccepted         Name = "empty-key-accepted"
	SelectorEvaluatedOnce    Name = "selector-evaluated-once"
	SecretUpdatesIgnored     Name = "secret-updates-ignored"
	DeletedSecretKeysKept    Name = "deleted-secret-keys-kept"
	CrossNamespaceNoGrant    Name = "cross-namespace-secret-without-grant"
	MissingSecretNoAuth      Name = "missing-secret-means-no-auth"
	DuplicateKeyResolved     Name = "conflicting-duplicate-key-resolved"
	RouteMergedWithGateway   Name = "route-policy-merged-with-gateway"
	NewestPolicyWins         Name = "newest-policy-wins"
	DisableIgnored           Name = "disable-ignored"
	ListenerSectionIgnored   Name = "listener-section-ignored"
	RuleSectionIgnored       Name = "rule-section-ignored"
	PolicyWeightIgnored      Name = "policy-weight-ignored"
	ForwardCredentialIgnored Name = "forward-credential-ignored"
)

// Discard is a ResponseWriter that drops what is written to it: a mutant
// that sends a request on and then answers on its own uses it.
type Discard struct{ header http.Header }

func (d *Discard) Header() http.Header {
	if d.header == nil {
		d.header = http.Header{}
	}
	return d.header
}

func (*Discard) Write(b []byte) (int, error) { return len(b), nil }

func (*Discard) WriteHeader(int) {}

// Memory is what mutants remember across calls, by key.
var Memory sync.Map

// Remember returns the value first remembered under key, storing v if
// there is none: the memory of a mutant that evaluates something once.
func Remember[T any](key string, v T) T {
	got, _ := Memory.LoadOrStore(key, v)
	return got.(T)
}
