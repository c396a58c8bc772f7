package apikeyauth

import (
	"net/http"
	"strings"

	"github.com/keyconform/keyconform/internal/mutant"
)

// Local reply bodies, content type and response code details, as Envoy's
// filter and Http::Utility::prepareLocalReply produce them (docs/spec.md
// KEY-03, KEY-15).
const (
	BodyUnauthorized = "Client authentication failed."
	BodyForbidden    = "Client is forbidden."
	// LocalReplyContentType is set on every local reply with a body; Envoy
	// adds no WWW-Authenticate header.
	LocalReplyContentType = "text/plain"

	DetailsMissingKeySources  = "missing_key_sources"
	DetailsMissingCredentials = "missing_credentials"
	DetailsMissingAPIKey      = "missing_api_key"
	DetailsUnknownAPIKey      = "unkonwn_api_key" // sic, as Envoy spells it
	DetailsClientNotAllowed   = "client_not_allowed"
)

// Decision is the outcome for one request.
type Decision struct {
	Allowed bool
	Status  int    // 0 when allowed, else 401 or 403
	Body    string // BodyUnauthorized or BodyForbidden
	Details string // response code details, one of the Details* constants
	Client  string // the authenticated client id (never the key)
}

func unauthorized(details string) Decision {
	switch {
	case mutant.On(mutant.Forbidden403):
		return Decision{Status: http.StatusForbidden, Body: BodyUnauthorized, Details: details}
	case mutant.On(mutant.Body401Changed):
		return Decision{Status: http.StatusUnauthorized, Body: "Unauthorized", Details: details}
	}
	return Decision{Status: http.StatusUnauthorized, Body: BodyUnauthorized, Details: details}
}

// Check authenticates req under cfg (an effective config; nil fails closed)
// in the order of Envoy's ApiKeyAuthFilter::decodeHeaders. On success it
// applies forwarding to req in place: the client id header replaces any
// value the client sent, then, with hide_credentials, the key is removed
// from every configured source, wherever it was found. On failure req is
// left untouched.
func Check(cfg *Config, req *http.Request) Decision {
	if cfg == nil {
		cfg = emptyConfig
	}
	if len(cfg.sources) == 0 {
		return unauthorized(DetailsMissingKeySources)
	}
	if len(cfg.credentials) == 0 {
		return unauthorized(DetailsMissingCredentials)
	}
	key := cfg.findKey(req)
	if key == "" {
		return unauthorized(DetailsMissingAPIKey)
	}
	client, ok := cfg.credentials[key]
	if !ok {
		client, ok = cfg.mutantLookup(req, key)
	}
	if !ok {
		return unauthorized(DetailsUnknownAPIKey)
	}
	if len(cfg.allowedClients) > 0 {
		if _, ok := cfg.allowedClients[client]; !ok {
			return Decision{Status: http.StatusForbidden, Body: BodyForbidden, Details: DetailsClientNotAllowed}
		}
	}
	cfg.forward(req, client)
	return Decision{Allowed: true, Client: client}
}

// findKey returns the first non-empty value over the sources in order: a
// wrong key in an earlier source does not fall through to later ones
// (docs/spec.md KEY-09).
func (c *Config) findKey(req *http.Request) string {
	if req == nil {
		return ""
	}
	for _, s := range c.sources {
		if k := s.key(req); k != "" {
			return k
		}
	}
	return ""
}

func (c *Config) forward(req *http.Request, client string) {
	if c.forwarding.header != "" && !mutant.On(mutant.ClientIDNotSet) {
		if req.Header == nil {
			req.Header = http.Header{}
		}
		if mutant.On(mutant.ClientIDAppended) {
			req.Header[c.forwarding.header] = append(req.Header[c.forwarding.header], client)
		} else {
			req.Header[c.forwarding.header] = []string{client}
		}
	}
	if c.forwarding.hide {
		for _, s := range c.sources {
			if mutant.On(mutant.HideOnlyFoundSource) && s.key(req) == "" {
				continue
			}
			s.remove(req)
			if mutant.On(mutant.HideOnlyFoundSource) {
				break
			}
		}
	}
}

// mutantLookup is where the key-matching mutants look a key up again after
// an exact miss; without one switched on it finds nothing.
func (c *Config) mutantLookup(req *http.Request, key string) (string, bool) {
	switch {
	case mutant.On(mutant.KeyCaseInsensitive):
		for k, client := range c.credentials {
			if strings.EqualFold(k, key) {
				return client, true
			}
		}
	case mutant.On(mutant.FallThroughAfterWrong):
		for _, s := range c.sources {
			if client, ok := c.credentials[s.key(req)]; ok {
				return client, true
			}
		}
	}
	return "", false
}
