package httpbin

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestStartServesHTTPBin(t *testing.T) {
	s, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+"/headers", nil)
	req.Header.Set("X-Probe", "yes")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Headers map[string][]string `json:"headers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(body.Headers["X-Probe"]) != 1 || body.Headers["X-Probe"][0] != "yes" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, body.Headers)
	}

	resp, err = http.Get("http://" + s.Addr() + "/status/418")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 418 {
		t.Fatalf("/status/418 answered %d", resp.StatusCode)
	}
}

func TestStartRejectsNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "10.0.0.1:80", "localhost:80", ":8000"} {
		_, err := Start(addr)
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("Start(%q) error = %v, want a loopback error", addr, err)
		}
	}
}
