package harness

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// TimeoutConfig bounds every wait of a scenario, like Gateway API
// conformance's TimeoutConfig. Values are taken as given: a zero is never
// replaced by a default behind the user's back; Validate rejects the ones
// that make no sense.
type TimeoutConfig struct {
	// PollInterval is the pause between two attempts of a request
	// expectation. Object and status waits need none: they watch.
	PollInterval time.Duration
	// MaxTimeToConsistency is how long a request expectation may take to
	// hold RequiredConsecutiveSuccesses times in a row.
	MaxTimeToConsistency time.Duration
	// RequiredConsecutiveSuccesses is how many attempts in a row must match
	// before a request expectation holds. It is at least 1.
	RequiredConsecutiveSuccesses int
	// RequestTimeout bounds one HTTP request.
	RequestTimeout time.Duration
	// StatusTimeout bounds waiting for an object status condition.
	StatusTimeout time.Duration
	// GatewayReadyTimeout bounds waiting for a scenario's Gateways to be
	// programmed and reachable and its Deployments available.
	GatewayReadyTimeout time.Duration
	// APITimeout bounds one call to the Kubernetes API.
	APITimeout time.Duration
}

// DefaultTimeoutConfig returns Gateway API conformance's values where it has
// one (poll 100ms, 30s to consistency, 3 in a row, 10s per request).
func DefaultTimeoutConfig() TimeoutConfig {
	return TimeoutConfig{
		PollInterval:                 100 * time.Millisecond,
		MaxTimeToConsistency:         30 * time.Second,
		RequiredConsecutiveSuccesses: 3,
		RequestTimeout:               10 * time.Second,
		StatusTimeout:                60 * time.Second,
		GatewayReadyTimeout:          180 * time.Second,
		APITimeout:                   30 * time.Second,
	}
}

// Validate says what is wrong with a configuration and how to fix it.
func (c TimeoutConfig) Validate() error {
	var errs []error
	positive := func(flagName string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("--%s must be a positive duration such as 100ms or 30s (got %v)", flagName, d))
		}
	}
	positive("poll-interval", c.PollInterval)
	positive("max-time-to-consistency", c.MaxTimeToConsistency)
	positive("request-timeout", c.RequestTimeout)
	positive("status-timeout", c.StatusTimeout)
	positive("gateway-ready-timeout", c.GatewayReadyTimeout)
	positive("api-timeout", c.APITimeout)
	if c.RequiredConsecutiveSuccesses < 1 {
		errs = append(errs, fmt.Errorf("--required-consecutive-successes must be at least 1 (got %d): "+
			"1 accepts the first matching response, more make sure the data plane settled", c.RequiredConsecutiveSuccesses))
	}
	if c.PollInterval > 0 && c.MaxTimeToConsistency > 0 && c.RequiredConsecutiveSuccesses > 0 &&
		time.Duration(c.RequiredConsecutiveSuccesses-1)*c.PollInterval >= c.MaxTimeToConsistency {
		errs = append(errs, fmt.Errorf("--max-time-to-consistency (%v) leaves no time for %d consecutive successes %v apart; raise it or lower the others",
			c.MaxTimeToConsistency, c.RequiredConsecutiveSuccesses, c.PollInterval))
	}
	return errors.Join(errs...)
}

// BindFlags registers one flag per field on fs, defaulting to c's values.
func (c *TimeoutConfig) BindFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.PollInterval, "poll-interval", c.PollInterval, "pause between two attempts of a request expectation (object and status waits watch instead)")
	fs.DurationVar(&c.MaxTimeToConsistency, "max-time-to-consistency", c.MaxTimeToConsistency, "time a request expectation may take to hold --required-consecutive-successes times in a row")
	fs.IntVar(&c.RequiredConsecutiveSuccesses, "required-consecutive-successes", c.RequiredConsecutiveSuccesses, "matching responses in a row before a request expectation holds (at least 1)")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", c.RequestTimeout, "timeout of one HTTP request")
	fs.DurationVar(&c.StatusTimeout, "status-timeout", c.StatusTimeout, "time an object status condition may take to appear")
	fs.DurationVar(&c.GatewayReadyTimeout, "gateway-ready-timeout", c.GatewayReadyTimeout, "time a scenario's Gateways and Deployments may take to become ready")
	fs.DurationVar(&c.APITimeout, "api-timeout", c.APITimeout, "timeout of one Kubernetes API call")
}
