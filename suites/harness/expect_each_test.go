package harness

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mccutchen/go-httpbin/v2/httpbin"

	"github.com/keyconform/keyconform/suites/scenario"
)

// A "weighted split" where every fourth request goes to a backend that is
// not protected: Expect is satisfied by a run of three 401s, ExpectEach is
// not.
func TestExpectEachCatchesWhatARunOfMatchesMisses(t *testing.T) {
	var n atomic.Int32
	bin := httpbin.New()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			bin.ServeHTTP(w, r)
			return
		}
		localReply(w, 401, scenario.UnauthorizedBody)
	})
	x, _ := newTestExecution(t, handler, fastTimeouts())
	if err := x.runStep(context.Background(), scenario.Expect(scenario.Get("/anything"), scenario.Unauthorized)); err != nil {
		t.Fatalf("Expect failed, so this test proves nothing: %v", err)
	}
	err := x.runStep(context.Background(), scenario.ExpectEach(10, scenario.Get("/anything"), scenario.Unauthorized))
	if err == nil {
		t.Fatal("ExpectEach passed although every fourth request reached the backend")
	}
	for _, want := range []string{"must each match", "request:", "expected:", "actual:   200 from the backend", "the backend was reached"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("failure message lacks %q:\n%s", want, err)
		}
	}
}

func TestExpectEachSendsThatManyMore(t *testing.T) {
	var n atomic.Int32
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		localReply(w, 401, scenario.UnauthorizedBody)
	})
	tc := fastTimeouts()
	x, _ := newTestExecution(t, handler, tc)
	step := scenario.ExpectEach(7, scenario.Get("/anything"), scenario.Unauthorized)
	if err := x.runStep(context.Background(), step); err != nil {
		t.Fatal(err)
	}
	if got, want := n.Load(), int32(tc.RequiredConsecutiveSuccesses+7); got != want {
		t.Errorf("sent %d requests, want %d", got, want)
	}
	if d := step.Describe(x.render); !strings.Contains(d, "each of 7 more requests") {
		t.Errorf("describe = %q", d)
	}
}
