package apikeyauth

import (
	"net/http"
	"sync/atomic"
)

// Counters are the filter's stats: <StatPrefix>allowed, unauthorized and
// forbidden.
type Counters struct {
	Allowed, Unauthorized, Forbidden atomic.Uint64
}

// Record counts one decision as Envoy does: a 401 is unauthorized, any other
// denial forbidden.
func (c *Counters) Record(d Decision) {
	switch {
	case d.Allowed:
		c.Allowed.Add(1)
	case d.Status == http.StatusUnauthorized:
		c.Unauthorized.Add(1)
	default:
		c.Forbidden.Add(1)
	}
}
