package apikeyauth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"

	"github.com/keyconform/keyconform/internal/mutant"
)

// FilterName is the HTTP filter name and the typed_per_filter_config key.
const FilterName = "envoy.filters.http.api_key_auth"

// StatPrefix is what Envoy appends to the connection manager's stat prefix to
// name this filter's counters (e.g. "http.<stat_prefix>.api_key_auth.allowed").
const StatPrefix = "api_key_auth."

// Config is a validated, pre-compiled filter-level, per-route or effective
// config. It is immutable once built and safe for concurrent use.
type Config struct {
	// credentials maps an API key to its client id; empty means none configured.
	credentials map[string]string
	sources     []keySource
	forwarding  forwarding
	// allowedClients is set by per-route configs only; empty allows every
	// authenticated client.
	allowedClients map[string]struct{}
}

type forwarding struct {
	header string // canonical header name; empty sets no client id header
	hide   bool
}

// emptyConfig stands in for a missing config: it fails every request closed.
var emptyConfig = &Config{}

// Compile validates a filter-level config as Envoy does and pre-compiles it.
// Errors never contain an API key.
func Compile(cfg *apikeyv3.ApiKeyAuth) (*Config, error) {
	if cfg == nil {
		return nil, errors.New("api_key_auth: ApiKeyAuth config is nil")
	}
	if err := cfg.ValidateAll(); err != nil {
		return nil, fmt.Errorf("api_key_auth: invalid ApiKeyAuth: %w", err)
	}
	return compile(cfg.GetCredentials(), cfg.GetKeySources(), cfg.GetForwarding(), nil)
}

// CompilePerRoute validates a per-route config as Envoy does and pre-compiles
// it, keeping allowed_clients. Errors never contain an API key.
func CompilePerRoute(cfg *apikeyv3.ApiKeyAuthPerRoute) (*Config, error) {
	if cfg == nil {
		return nil, errors.New("api_key_auth: ApiKeyAuthPerRoute config is nil")
	}
	if err := cfg.ValidateAll(); err != nil {
		return nil, fmt.Errorf("api_key_auth: invalid ApiKeyAuthPerRoute: %w", err)
	}
	return compile(cfg.GetCredentials(), cfg.GetKeySources(), cfg.GetForwarding(), cfg.GetAllowedClients())
}

func compile(creds []*apikeyv3.Credential, srcs []*apikeyv3.KeySource, fwd *apikeyv3.Forwarding, allowed []string) (*Config, error) {
	c := &Config{forwarding: forwarding{
		header: http.CanonicalHeaderKey(fwd.GetHeader()),
		hide:   fwd.GetHideCredentials(),
	}}
	// Envoy builds the key sources before the credentials, so a bad source is
	// the error reported when both are wrong.
	for i, s := range srcs {
		ks, ok := newKeySource(s)
		if !ok {
			return nil, fmt.Errorf("api_key_auth: key_sources[%d]: one of 'header'/'query'/'cookie' must be set", i)
		}
		c.sources = append(c.sources, ks)
	}
	if len(creds) > 0 {
		c.credentials = make(map[string]string, len(creds))
	}
	for i, cr := range creds {
		if _, dup := c.credentials[cr.GetKey()]; dup {
			return nil, duplicateKeyError(creds, i)
		}
		c.credentials[cr.GetKey()] = cr.GetClient()
	}
	if len(allowed) > 0 {
		c.allowedClients = make(map[string]struct{}, len(allowed))
		for _, client := range allowed {
			c.allowedClients[client] = struct{}{}
		}
	}
	return c, nil
}

// duplicateKeyError is Envoy's error for a key given twice
// (ApiKeyAuthConfig's constructor, source/extensions/filters/http/
// api_key_auth/api_key_auth.cc: "Duplicated credential key: '<key>'"): it
// echoes the key, so whatever reports it scrubs key values first (the
// xDS client's NACK detail and log, the data plane's start-up errors;
// docs/spec.md HCM-03).
func duplicateKeyError(creds []*apikeyv3.Credential, dup int) error {
	return fmt.Errorf("Duplicated credential key: '%s'", creds[dup].GetKey())
}

// Effective merges the most specific per-route config (nil if none) over the
// filter-level config as Envoy's decodeHeaders does: credentials and key
// sources are replaced when the per-route ones are non-empty; forwarding is
// replaced whenever a per-route config exists (Envoy always constructs it, so
// a per-route config without forwarding turns filter-level forwarding off);
// allowed_clients come from the per-route config only.
func Effective(filter, perRoute *Config) *Config {
	if filter == nil {
		filter = emptyConfig
	}
	if perRoute == nil {
		return filter
	}
	if len(perRoute.credentials) > 0 && len(perRoute.sources) > 0 {
		return perRoute
	}
	eff := *perRoute
	if len(eff.credentials) == 0 {
		eff.credentials = filter.credentials
	}
	if len(eff.sources) == 0 {
		eff.sources = filter.sources
	}
	return &eff
}

// coalesced reports whether Envoy stores this key source header as an O(1)
// inline header in a standard build, so that repeated values reach the
// filter joined by "," instead of as separate entries. Authorization is
// registered inline by the oauth2 and cache filters
// (RegisterCustomInlineHeader); the other inline request headers
// (user-agent, x-request-id, ...) are not plausible key sources.
func coalesced(canonicalName string) bool {
	return canonicalName == "Authorization"
}

func newKeySource(s *apikeyv3.KeySource) (keySource, bool) {
	switch {
	case s.GetHeader() != "":
		name := http.CanonicalHeaderKey(s.GetHeader())
		if mutant.On(mutant.HeaderNameCaseSensitive) {
			name = s.GetHeader()
		}
		return keySource{kind: headerSource, name: name, coalesce: coalesced(name)}, true
	case s.GetQuery() != "":
		return keySource{kind: querySource, name: s.GetQuery()}, true
	case s.GetCookie() != "":
		return keySource{kind: cookieSource, name: s.GetCookie()}, true
	}
	return keySource{}, false
}

// String describes the config without credentials, for logs and debugging.
func (c *Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "api_key_auth{credentials: %d, key_sources: [", len(c.credentials))
	for i, s := range c.sources {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.String())
	}
	fmt.Fprintf(&b, "], forwarding: {header: %q, hide_credentials: %t}, allowed_clients: %d}",
		c.forwarding.header, c.forwarding.hide, len(c.allowedClients))
	return b.String()
}
