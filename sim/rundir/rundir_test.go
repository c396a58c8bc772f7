package rundir

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestClaimReclaimsStaleDirectoryAndItsProcesses(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	stale := filepath.Join(tmp, prefix+"stale")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	// An owner that was killed leaves its lock file, unlocked.
	for _, name := range []string{lockFile, "data"} {
		if err := os.WriteFile(filepath.Join(stale, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A child it started that outlived it, naming the directory.
	survivor := exec.Command("tail", "-f", filepath.Join(stale, "data"))
	survivor.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := survivor.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- survivor.Wait() }()
	t.Cleanup(func() { _ = survivor.Process.Kill() })

	d, err := Claim()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()

	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale run directory still there after Claim (stat: %v)", err)
	}
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("the stale directory's process ended with %v, want SIGKILL", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the stale directory's process still runs after Claim")
	}
}

func TestClaimLeavesDirectoriesOfLiveOwners(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	first, err := Claim()
	if err != nil {
		t.Fatal(err)
	}
	// Created a moment ago by a process that has not locked it yet.
	young := filepath.Join(tmp, prefix+"young")
	if err := os.Mkdir(young, 0o700); err != nil {
		t.Fatal(err)
	}
	second, err := Claim()
	if err != nil {
		t.Fatal(err)
	}
	defer second.Release()
	for _, dir := range []string{first.Path(), young} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("Claim removed %s, whose owner may be alive: %v", dir, err)
		}
	}
	if first.Path() == second.Path() {
		t.Fatalf("two claims share %s", first.Path())
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(first.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Release left %s (stat: %v)", first.Path(), err)
	}
}

// TestDieWithParent kills a shell that started a wrapped sleep and expects
// the sleep to die with it.
func TestDieWithParent(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	d, err := Claim()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	wrapper, err := d.DieWithParent(sleep)
	if err != nil {
		t.Fatal(err)
	}
	parent := exec.Command("sh", "-c", `"$1" 600 & echo $!; wait`, "sh", wrapper)
	parent.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("the shell printed %q, not a pid", line)
	}
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
	// Let the wrapper exec into setpriv and sleep before the parent dies.
	waitFor(t, "the wrapped sleep to run", func() bool { return comm(child) == "sleep" })

	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	waitFor(t, "the wrapped sleep to die with its parent", func() bool {
		c := comm(child)
		return c == "" || c != "sleep"
	})
}

// comm is the command name of a live process, "" for none.
func comm(pid int) string {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	s := string(stat)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open || end+2 >= len(s) || s[end+2] == 'Z' {
		return ""
	}
	return s[open+1 : end]
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDieWithParentSetsEnvironment(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	d, err := Claim()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	wrapper, err := d.DieWithParent(sh, "GOGC=400", "ODD=it's $HOME")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(wrapper, "-c", `printf '%s|%s' "$GOGC" "$ODD"`).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "400|it's $HOME"; got != want {
		t.Errorf("the wrapped process saw %q, want %q", got, want)
	}
	for _, bad := range []string{"GOGC", "=400", "A B=1"} {
		if _, err := d.DieWithParent(sh, bad); err == nil {
			t.Errorf("DieWithParent accepted the environment entry %q", bad)
		}
	}
}

func TestKillEndsTheDirectorysProcesses(t *testing.T) {
	d, err := Claim()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Release() })
	user := exec.Command("tail", "-f", filepath.Join(d.Path(), "lockfile-or-any"))
	other := exec.Command("sleep", "60")
	for _, c := range []*exec.Cmd{user, other} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	}
	exited := make(chan error, 1)
	go func() { exited <- user.Wait() }()
	if err := d.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the directory's process still runs after Kill")
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("Kill ended a process that does not use the directory: %v", err)
	}
}
