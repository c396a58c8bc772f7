//go:build mutants

package mutant

import "os"

// Env names the environment variable that switches one mutant on.
const Env = "KEYCONFORM_MUTANT"

var active = Name(os.Getenv(Env))

// On reports whether mutant n is the one $KEYCONFORM_MUTANT names.
func On(n Name) bool { return n == active }

// Mutant is one deliberate bug: what an implementer could ship.
type Mutant struct {
	Name Name
	Bug  string
}

// Catalog is every mutant, in the order `make mutants` runs them.
var Catalog = []Mutant{
	{BearerCaseInsensitive, "the \"Bearer \" prefix is removed whatever its case"},
	{BearerKept, "the \"Bearer \" prefix is kept as part of the key"},
	{HeaderNameCaseSensitive, "the key header is looked up by its configured spelling, case-sensitively"},
	{LastHeaderWins, "of a repeated key header the last value is used"},
	{FallThroughAfterWrong, "a wrong key in one source falls through to the next source"},
	{HideOnlyFoundSource, "the credential is hidden only from the source it was found in"},
	{CookieHidingDropsOthers, "hiding a cookie key drops every cookie"},
	{QueryHidingDropsOthers, "hiding a query key drops the whole query"},
	{ClientIDAppended, "the client id is appended to the client's own value instead of replacing it"},
	{ClientIDNotSet, "the client id header is never set"},
	{KeyCaseInsensitive, "keys are compared case-insensitively"},
	{Body401Changed, "the 401 body reads \"Unauthorized\""},
	{ContentType401Changed, "the 401 says content-type application/json"},
	{Forbidden403, "an unknown or missing key gets 403 instead of 401"},
	{BackendBeforeDecision, "a denied request is sent to the backend before the 401"},
	{EmptyKeyAccepted, "a Secret entry with an empty value becomes a credential with an empty key"},
	{SelectorEvaluatedOnce, "a policy's secretSelector is evaluated once; later Secrets and label changes are not seen"},
	{SecretUpdatesIgnored, "the controller keeps each Secret as it first saw it: updates are ignored"},
	{DeletedSecretKeysKept, "the controller keeps the keys of a deleted Secret"},
	{CrossNamespaceNoGrant, "a Secret in another namespace is read without a ReferenceGrant"},
	{MissingSecretNoAuth, "a policy whose Secret is missing switches API key auth off"},
	{DuplicateKeyResolved, "one key held by two clients goes to the first client instead of failing the policy"},
	{RouteMergedWithGateway, "a route's policy is merged with the Gateway's: the Gateway's keys work on the route too"},
	{NewestPolicyWins, "of two policies at the same place the newest wins"},
	{DisableIgnored, "disable is ignored: a higher policy's auth stays on"},
	{ListenerSectionIgnored, "a Gateway target's sectionName is ignored: the policy covers every listener"},
	{RuleSectionIgnored, "an HTTPRoute target's sectionName is ignored: the policy covers every rule"},
	{PolicyWeightIgnored, "the policy-weight annotation is ignored"},
	{ForwardCredentialIgnored, "forwardCredential is ignored: the key is always hidden"},
}
