package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyconform/keyconform/sim/localenv"
)

// TestRunPrintsWhatToPasteAndCleansUp runs the command's main job in
// process: it must print the export lines and "ready", serve the sample
// app, and on interrupt leave no child process and no temporary files.
func TestRunPrintsWhatToPasteAndCleansUp(t *testing.T) {
	before := children(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{overrides: map[uint32]string{8080: "127.0.0.1:0"}, logLevel: slog.LevelError, implementation: localenv.ImplKeyconform}, w)
		w.Close()
	}()

	lines := map[string]string{}
	scanner := bufio.NewScanner(out)
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case strings.HasPrefix(line, "export KUBECONFIG="):
			lines["kubeconfig"] = strings.TrimPrefix(line, "export KUBECONFIG=")
		case strings.HasPrefix(line, "export PATH="):
			lines["path"] = strings.TrimSuffix(strings.TrimPrefix(line, "export PATH="), ":$PATH")
		case strings.HasPrefix(line, "# Gateway"):
			lines["gateway"] = line
		case strings.HasPrefix(line, "# its data plane's admin"):
			lines["admin"] = line
		case strings.HasPrefix(line, "ready"):
			lines["ready"] = line
		}
		if lines["ready"] != "" {
			break
		}
	}
	go io.Copy(io.Discard, out)
	if lines["ready"] == "" {
		t.Fatalf("no ready line; run returned %v", <-done)
	}
	if _, err := os.Stat(lines["kubeconfig"]); err != nil {
		t.Errorf("printed KUBECONFIG: %v", err)
	}
	if _, err := os.Stat(filepath.Join(lines["path"], "kubectl")); err != nil {
		t.Errorf("printed PATH has no kubectl: %v", err)
	}
	addr := strings.Fields(strings.SplitN(lines["gateway"], "http://", 2)[1])[0]
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/headers", nil)
	req.Host = "www.example.com"
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sample app not served on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	admin := strings.Fields(strings.SplitN(lines["admin"], "http://", 2)[1])[0]
	resp, err := http.Get("http://" + admin + "/ready")
	if err != nil {
		t.Fatalf("printed admin address: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("admin /ready: %d, want 200 (LIVE)", resp.StatusCode)
	}

	if len(children(t)) <= len(before) {
		t.Fatal("expected etcd and kube-apiserver child processes while running")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if left := children(t); len(left) > len(before) {
		t.Errorf("child processes left after stop: %v", left)
	}
	if _, err := os.Stat(lines["kubeconfig"]); !os.IsNotExist(err) {
		t.Errorf("kubeconfig %s still exists after stop (err %v)", lines["kubeconfig"], err)
	}
}

// children lists the live child processes of this test process.
func children(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("reading /proc to inspect child processes: %v", err)
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state, ppid.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[0] != "Z" && f[1] == strconv.Itoa(self) {
			pids = append(pids, pid)
		}
	}
	return pids
}
