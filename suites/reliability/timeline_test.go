package reliability

import (
	"net/http"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func resp(kind Kind, gen, sentMs, status int) Response {
	return Response{Kind: kind, Gen: gen, Sent: at(sentMs), Done: at(sentMs + 1), Status: status}
}

func TestWronglyAllowed(t *testing.T) {
	rotation := Revocation{Gen: 1, At: at(100)}
	tests := []struct {
		name string
		rs   []Response
		revs []Revocation
		want int
	}{
		{"wrong and missing keys are never allowed", []Response{
			resp(Wrong, 0, 10, http.StatusOK), resp(Missing, 0, 11, http.StatusOK), resp(Wrong, 0, 12, http.StatusUnauthorized)}, nil, 2},
		{"the old key works until the new configuration is seen", []Response{
			resp(Old, 1, 120, http.StatusOK), resp(Valid, 2, 130, http.StatusOK), resp(Old, 1, 129, http.StatusOK)}, []Revocation{rotation}, 0},
		{"the old key after the new configuration was seen", []Response{
			resp(Valid, 2, 130, http.StatusOK), resp(Old, 1, 140, http.StatusOK)}, []Revocation{rotation}, 1},
		{"a success of the old key before the revocation proves nothing", []Response{
			resp(Old, 1, 90, http.StatusOK), resp(Old, 1, 150, http.StatusOK)}, []Revocation{rotation}, 0},
		{"after a deletion the fail-closed 500 shows the new configuration", []Response{
			resp(Missing, 0, 110, http.StatusInternalServerError), resp(Valid, 1, 120, http.StatusOK)},
			[]Revocation{{Gen: 1, At: at(100), Deleted: true}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WronglyAllowed(tt.rs, tt.revs); len(got) != tt.want {
				t.Errorf("wrongly allowed: %d, want %d: %+v", len(got), tt.want, got)
			}
		})
	}
}

func TestRevocationLatency(t *testing.T) {
	rev := Revocation{Gen: 1, At: at(100)}
	rs := []Response{
		resp(Old, 1, 90, http.StatusOK),
		resp(Old, 1, 110, http.StatusOK),
		resp(Old, 1, 120, http.StatusUnauthorized),
		resp(Old, 1, 125, http.StatusOK), // a second data plane, still old
		resp(Old, 1, 140, http.StatusUnauthorized),
		resp(Old, 1, 150, 0), // transport error: no verdict
		resp(Old, 1, 160, http.StatusUnauthorized),
	}
	if got, ok := RevocationLatency(rs, rev); !ok || got != 40*time.Millisecond {
		t.Errorf("latency = %v, %v; want 40ms", got, ok)
	}
	if _, ok := RevocationLatency(rs[:2], rev); ok {
		t.Error("a key that always got through has a revocation latency")
	}
}

func TestValidTraffic(t *testing.T) {
	rs := []Response{
		resp(Valid, 1, 5, http.StatusOK), // before the window
		resp(Valid, 1, 10, http.StatusOK),
		resp(Valid, 1, 20, 0),
		resp(Wrong, 0, 25, http.StatusUnauthorized),
		resp(Valid, 1, 30, http.StatusServiceUnavailable),
		resp(Valid, 1, 40, http.StatusOK),
		resp(Valid, 1, 50, http.StatusOK),
	}
	w := ValidTraffic(rs, at(10), at(100))
	if w.Requests != 5 || w.Failed != 2 || w.Recovered != 30*time.Millisecond {
		t.Errorf("window = %+v, want 5 requests, 2 failed, recovered after 30ms", w)
	}
	if w := ValidTraffic(rs[:3], at(10), at(100)); w.Recovered != 90*time.Millisecond {
		t.Errorf("a window that ends failing recovered after %v, want its whole 90ms", w.Recovered)
	}
	if w := ValidTraffic(rs[:2], at(0), at(100)); w.Failed != 0 || w.Recovered != 0 {
		t.Errorf("a window without failures: %+v", w)
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	if p50, p99 := Percentile(ds, 50), Percentile(ds, 99); p50 != 5 || p99 != 10 {
		t.Errorf("p50 %v p99 %v", p50, p99)
	}
	if Percentile(nil, 50) != 0 {
		t.Error("percentile of nothing")
	}
}
