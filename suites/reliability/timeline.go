package reliability

import (
	"cmp"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Kind says which key a request carried.
type Kind int

const (
	// Valid carries the key generation currently in the Secret.
	Valid Kind = iota
	// Old carries the generation the latest change revoked.
	Old
	// Wrong carries a key that was never valid.
	Wrong
	// Missing carries no key.
	Missing
)

func (k Kind) String() string { return [...]string{"valid", "old", "wrong", "missing"}[k] }

// Response is one request's outcome; Status 0 is a transport error.
type Response struct {
	Kind   Kind
	Gen    int // the key generation sent, for Valid and Old
	Sent   time.Time
	Done   time.Time
	Status int
}

// Revocation is a change that took generation Gen's key away at At (when
// the API server acknowledged it): a rotation to Gen+1, or the Secret's
// deletion, after which the policy fails closed (500).
type Revocation struct {
	Gen     int
	At      time.Time
	Deleted bool
}

// Timeline records every response and every revocation; safe for
// concurrent use.
type Timeline struct {
	mu          sync.Mutex
	responses   []Response
	revocations []Revocation
}

func (t *Timeline) Record(r Response) {
	t.mu.Lock()
	t.responses = append(t.responses, r)
	t.mu.Unlock()
}

func (t *Timeline) Revoke(r Revocation) {
	t.mu.Lock()
	t.revocations = append(t.revocations, r)
	t.mu.Unlock()
}

// Snapshot returns the responses so far, by send time, and the
// revocations.
func (t *Timeline) Snapshot() ([]Response, []Revocation) {
	t.mu.Lock()
	rs, revs := slices.Clone(t.responses), slices.Clone(t.revocations)
	t.mu.Unlock()
	slices.SortFunc(rs, func(a, b Response) int { return a.Sent.Compare(b.Sent) })
	return rs, revs
}

// inForce is when a revocation was first seen in force: the first response
// that only its configuration (or a later one) gives, a 200 for a newer
// key, or, after a deletion, the 500 of the policy failing closed. Zero
// when it was never seen.
func inForce(rs []Response, rev Revocation) time.Time {
	var first time.Time
	for _, r := range rs {
		if !r.Done.After(rev.At) {
			continue
		}
		proves := (r.Status == http.StatusOK && (r.Kind == Valid || r.Kind == Old) && r.Gen > rev.Gen) ||
			(rev.Deleted && r.Status == http.StatusInternalServerError)
		if proves && (first.IsZero() || r.Done.Before(first)) {
			first = r.Done
		}
	}
	return first
}

// WronglyAllowed lists the responses that let a request through although
// its key was valid under no configuration in force when it was sent: a
// wrong or missing key, or a revoked key sent after the revoking
// configuration was seen in force.
func WronglyAllowed(rs []Response, revs []Revocation) []Response {
	seen := map[int]time.Time{}
	for _, rev := range revs {
		if t := inForce(rs, rev); !t.IsZero() {
			seen[rev.Gen] = t
		}
	}
	var out []Response
	for _, r := range rs {
		if r.Status != http.StatusOK {
			continue
		}
		switch r.Kind {
		case Wrong, Missing:
			out = append(out, r)
		default:
			if t, ok := seen[r.Gen]; ok && r.Sent.After(t) {
				out = append(out, r)
			}
		}
	}
	return out
}

// RevocationLatency is how long after the API server acknowledged a
// revocation the revoked key stopped working for good: from the
// revocation to the send time of the first rejected request for it after
// which none got through. False when no request probed it after the
// revocation, or it was never rejected.
func RevocationLatency(rs []Response, rev Revocation) (time.Duration, bool) {
	var firstReject time.Time
	for _, r := range rs {
		if r.Gen != rev.Gen || (r.Kind != Valid && r.Kind != Old) || r.Sent.Before(rev.At) {
			continue
		}
		switch {
		case r.Status == http.StatusOK:
			firstReject = time.Time{}
		case firstReject.IsZero() && r.Status != 0:
			firstReject = r.Sent
		}
	}
	if firstReject.IsZero() {
		return 0, false
	}
	return max(firstReject.Sub(rev.At), 0), true
}

// Window is what valid-key traffic saw from a fault's start to its end.
type Window struct {
	Requests int
	// Failed are valid-key requests that did not get 200.
	Failed int
	// Recovered is from the start to the first valid-key success after
	// the last failure; zero when none failed.
	Recovered time.Duration
}

// ValidTraffic summarises the valid-key responses sent in [from, to).
func ValidTraffic(rs []Response, from, to time.Time) Window {
	var w Window
	recovered := true
	for _, r := range rs {
		if r.Kind != Valid || r.Sent.Before(from) || !r.Sent.Before(to) {
			continue
		}
		w.Requests++
		switch {
		case r.Status != http.StatusOK:
			w.Failed++
			recovered = false
		case !recovered:
			w.Recovered, recovered = r.Sent.Sub(from), true
		}
	}
	if !recovered {
		w.Recovered = to.Sub(from) // not recovered inside the window
	}
	return w
}

// Percentile of durations, nearest rank.
func Percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.SortFunc(s, cmp.Compare)
	rank := (p*len(s) + 99) / 100
	return s[max(rank, 1)-1]
}
