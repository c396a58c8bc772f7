package translate

import (
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
	"github.com/keyconform/keyconform/internal/mutant"
)

// defaultKeyHeader is where the key is read from when keySources is empty.
const defaultKeyHeader = "api-key"

// perRouteConfig builds the typed_per_filter_config value of a policy's
// apiKeyAuth: FilterConfig{disabled} for disable, else an
// ApiKeyAuthPerRoute with the policy's defaults applied. When the policy
// cannot be built it returns why instead (a message fit for status).
func perRouteConfig(ix *index, tp *v1alpha1.TrafficPolicy) (*anypb.Any, string) {
	auth := tp.Spec.APIKeyAuth
	if auth.Disable != nil {
		return mustAny(&routev3.FilterConfig{Disabled: true}), ""
	}

	cfg := &apikeyauthv3.ApiKeyAuthPerRoute{
		KeySources: keySources(auth.KeySources),
		Forwarding: &apikeyauthv3.Forwarding{
			HideCredentials: auth.ForwardCredential == nil || !*auth.ForwardCredential || mutant.On(mutant.ForwardCredentialIgnored),
		},
	}
	if auth.ClientIDHeader != nil {
		cfg.Forwarding.Header = *auth.ClientIDHeader
	}
	// Validate before credentials are added: the error then names only
	// the policy's own fields, never a key.
	if err := cfg.ValidateAll(); err != nil {
		return nil, "apiKeyAuth: " + err.Error()
	}

	secrets, why := ix.policySecrets(tp)
	if why != "" && mutant.On(mutant.MissingSecretNoAuth) && strings.HasSuffix(why, " not found") {
		return mustAny(&routev3.FilterConfig{Disabled: true}), ""
	}
	if why != "" {
		return nil, why
	}
	creds, why := collectCredentials(secrets)
	if why != "" {
		return nil, why
	}
	cfg.Credentials = creds
	// Envoy rejects a whole RouteConfiguration for one invalid per-route
	// config; the error would describe credentials, so say only where to
	// look.
	if cfg.ValidateAll() != nil {
		return nil, "apiKeyAuth credentials are not valid for Envoy: check the names and values of the Secret entries"
	}

	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, cfg, proto.MarshalOptions{Deterministic: true}); err != nil {
		// The encoder's error could quote a field value: say only what to check.
		return nil, "apiKeyAuth could not be encoded: check that Secret entries and key sources are UTF-8 text"
	}
	return a, ""
}

// keySources applies the default (one header, api-key). A source setting
// several fields keeps them all: Envoy uses header, else query, else
// cookie, which is the API's documented precedence.
func keySources(in []v1alpha1.APIKeySource) []*apikeyauthv3.KeySource {
	var out []*apikeyauthv3.KeySource
	for _, s := range in {
		ks := &apikeyauthv3.KeySource{}
		if s.Header != nil {
			ks.Header = *s.Header
		}
		if s.Query != nil {
			ks.Query = *s.Query
		}
		if s.Cookie != nil {
			ks.Cookie = *s.Cookie
		}
		if ks.Header != "" || ks.Query != "" || ks.Cookie != "" {
			out = append(out, ks)
		}
	}
	if len(out) == 0 {
		out = []*apikeyauthv3.KeySource{{Header: defaultKeyHeader}}
	}
	return out
}
