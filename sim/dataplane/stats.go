package dataplane

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/keyconform/keyconform/sim/apikeyauth"
)

// Stat is one counter or gauge, named as Envoy names it.
type Stat struct {
	Name  string
	Value uint64
}

// stats holds counters that, as in Envoy, outlive config updates.
type stats struct {
	mu       sync.Mutex
	counters map[string]*atomic.Uint64
	auth     map[string]*apikeyauth.Counters // by connection manager prefix "http.<stat_prefix>."
}

func newStats() *stats {
	return &stats{counters: map[string]*atomic.Uint64{}, auth: map[string]*apikeyauth.Counters{}}
}

func (s *stats) counter(name string) *atomic.Uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.counters[name]
	if !ok {
		c = new(atomic.Uint64)
		s.counters[name] = c
	}
	return c
}

func (s *stats) inc(name string) { s.counter(name).Add(1) }

// authCounters are the api_key_auth counters of a connection manager; the
// filter's stats prefix is the HCM's "http.<stat_prefix>." plus
// "api_key_auth." (source/extensions/filters/http/api_key_auth/api_key_auth.cc
// and http_connection_manager/config.cc).
func (s *stats) authCounters(statPrefix string) *apikeyauth.Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := "http." + statPrefix + "."
	c, ok := s.auth[key]
	if !ok {
		c = &apikeyauth.Counters{}
		s.auth[key] = c
	}
	return c
}

// list returns every counter plus the given gauges, sorted by name.
func (s *stats) list(gauges map[string]uint64) []Stat {
	s.mu.Lock()
	all := maps.Clone(gauges)
	if all == nil {
		all = map[string]uint64{}
	}
	for n, c := range s.counters {
		all[n] = c.Load()
	}
	for prefix, c := range s.auth {
		p := prefix + apikeyauth.StatPrefix
		all[p+"allowed"] = c.Allowed.Load()
		all[p+"unauthorized"] = c.Unauthorized.Load()
		all[p+"forbidden"] = c.Forbidden.Load()
	}
	s.mu.Unlock()
	out := make([]Stat, 0, len(all))
	for _, n := range slices.Sorted(maps.Keys(all)) {
		out = append(out, Stat{Name: n, Value: all[n]})
	}
	return out
}
