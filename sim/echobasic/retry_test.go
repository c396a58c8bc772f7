package echobasic

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

// outcome is what one request of a retry simulation got: a status code,
// or reset for a TCP reset.
type outcome struct {
	status int
	reset  bool
	body   string // checked when not empty
	// echoed marks a JSON echo.
	echoed bool
}

var reset = outcome{reset: true}

func TestRetrySimulation(t *testing.T) {
	c := start(t, baseEnv(), nil)
	addr := c.addr(t, 3000)
	tests := []struct {
		name   string
		target string
		// want is the outcome of each request, sent in turn.
		want []outcome
	}{
		{name: "uuid required", target: "/retry/?succeedAfter=1", want: []outcome{{status: 400, body: "uuid is required"}}},
		{name: "succeedAfter required", target: "/retry/?uuid=u0", want: []outcome{{status: 400, body: "succeedAfter is required"}}},
		{name: "succeedAfter a number", target: "/retry/?uuid=u0&succeedAfter=two", want: []outcome{{status: 400, body: "succeedAfter is required"}}},
		{name: "reset twice then echo", target: "/retry/?uuid=u1&succeedAfter=2", want: []outcome{reset, reset, {status: 200, echoed: true}, {status: 200, echoed: true}}},
		{name: "status twice then echo", target: "/retry/?uuid=u2&succeedAfter=2&responseCode=503", want: []outcome{{status: 503, body: ""}, {status: 503}, {status: 200, echoed: true}}},
		{name: "response code not a number resets", target: "/retry/?uuid=u3&succeedAfter=1&responseCode=x", want: []outcome{reset, {status: 200, echoed: true}}},
		{name: "zero attempts echoes at once", target: "/retry/?uuid=u4&succeedAfter=0", want: []outcome{{status: 200, echoed: true}}},
		{name: "negative attempts echoes at once", target: "/retry/?uuid=u5&succeedAfter=-1", want: []outcome{{status: 200, echoed: true}}},
		{name: "uuids counted apart", target: "/retry/?uuid=u2&succeedAfter=3&responseCode=500", want: []outcome{{status: 500}, {status: 200, echoed: true}}},
		{name: "bad delayRetry counts the attempt", target: "/retry/?uuid=u6&succeedAfter=1&delayRetry=later", want: []outcome{
			{status: 500, body: `{"message":"time: invalid duration \"later\""}`}, {status: 200, echoed: true},
		}},
		{name: "bad delay on success", target: "/retry/?uuid=u7&succeedAfter=0&delay=x", want: []outcome{{status: 500, body: `{"message":"time: invalid duration \"x\""}`}}},
		{name: "any path under retry", target: "/retry/anything?uuid=u8&succeedAfter=1&responseCode=429", want: []outcome{{status: 429}, {status: 200, echoed: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range tt.want {
				resp, err := rawRoundTrip(t, addr, "GET "+tt.target+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
				if want.reset {
					if !errors.Is(err, syscall.ECONNRESET) {
						t.Fatalf("request %d: got %+v, %v; want a connection reset", i, resp, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if resp.status != want.status {
					t.Fatalf("request %d: status %d, want %d; body %q", i, resp.status, want.status, resp.body)
				}
				if want.body != "" && resp.body != want.body {
					t.Errorf("request %d: body %q, want %q", i, resp.body, want.body)
				}
				if want.echoed {
					if e := decodeEcho(t, []byte(resp.body)); e.Path != tt.target {
						t.Errorf("request %d: echoed path %q", i, e.Path)
					}
				} else if want.status != 500 && resp.body != want.body {
					t.Errorf("request %d: body %q, want none", i, resp.body)
				}
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	c := start(t, baseEnv(), nil)
	began := time.Now()
	resp, err := rawRoundTrip(t, c.addr(t, 3000), "GET /retry/?uuid=d&succeedAfter=1&responseCode=503&delayRetry=50ms HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	if err != nil || resp.status != 503 {
		t.Fatalf("got %+v, %v", resp, err)
	}
	if d := time.Since(began); d < 50*time.Millisecond {
		t.Errorf("failed after %v, before delayRetry", d)
	}
	// delayRetry does not delay the success.
	began = time.Now()
	resp, err = rawRoundTrip(t, c.addr(t, 3000), "GET /retry/?uuid=d&succeedAfter=1&responseCode=503&delayRetry=1h HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	if err != nil || resp.status != 200 || !strings.Contains(resp.body, `"path": "/retry/?uuid=d`) {
		t.Fatalf("got %+v, %v", resp, err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("success took %v", d)
	}
}
