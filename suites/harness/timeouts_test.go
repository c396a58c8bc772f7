package harness

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestTimeoutFlagsKeepZeroAndValidateRejectsIt(t *testing.T) {
	c := DefaultTimeoutConfig()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.BindFlags(fs)
	if err := fs.Parse([]string{"--required-consecutive-successes=0", "--poll-interval=20ms"}); err != nil {
		t.Fatal(err)
	}
	if c.RequiredConsecutiveSuccesses != 0 {
		t.Fatalf("0 became %d: a zero must never turn silently into the default", c.RequiredConsecutiveSuccesses)
	}
	if c.PollInterval != 20*time.Millisecond {
		t.Errorf("poll interval = %v", c.PollInterval)
	}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "--required-consecutive-successes must be at least 1 (got 0)") {
		t.Errorf("Validate = %v, want the zero named", err)
	}
}

func TestTimeoutValidate(t *testing.T) {
	if err := DefaultTimeoutConfig().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	c := DefaultTimeoutConfig()
	c.PollInterval = 0
	c.MaxTimeToConsistency = time.Second
	c.RequiredConsecutiveSuccesses = 3
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--poll-interval") {
		t.Errorf("zero poll interval: %v", err)
	}
	c = DefaultTimeoutConfig()
	c.PollInterval = time.Second
	c.MaxTimeToConsistency = 2 * time.Second
	c.RequiredConsecutiveSuccesses = 3
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "leaves no time") {
		t.Errorf("3 successes 1s apart in 2s: %v", err)
	}
}

func TestAwaitConsistentRestartsOnMismatch(t *testing.T) {
	seq := []bool{true, true, false, true, true, true, true}
	i := 0
	st := awaitConsistent(t.Context(), time.Millisecond, time.Minute, 3, func(context.Context) bool {
		ok := seq[i]
		i++
		return ok
	})
	if !st.Held || st.Attempts != 6 || st.Matches != 3 {
		t.Errorf("streak = %+v, want held after 6 attempts", st)
	}
}
