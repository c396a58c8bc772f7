// Package rundir gives the processes and files of a local control plane one
// owner: a directory this process claims and holds a lock on for as long as
// it lives. Child processes started through DieWithParent die with it
// however it ends (the Linux parent-death signal), and what a killed
// process could not clean up (its directory, a child that escaped in the
// instant before the signal was armed) is reclaimed by the next Claim.
package rundir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// prefix names every run directory in the temporary directory; Claim
// reclaims the stale ones it finds there.
const prefix = "keyconform-run-"

// lockFile is held (flock) by the owner for its whole life; the kernel
// drops the lock when the owner dies, whatever kills it.
const lockFile = ".lock"

// unlockedGrace is how long a directory being claimed, or without a lock
// file, is left alone: another process may be claiming or releasing it.
const unlockedGrace = time.Minute

// Dir is a directory claimed by this process.
type Dir struct {
	path string
	lock *os.File
}

// Claim reclaims the run directories of processes that are gone, then
// creates and locks one for this process.
func Claim() (*Dir, error) {
	if err := reclaim(os.TempDir()); err != nil {
		return nil, err
	}
	// The directory is locked under a name no other Claim looks at, then
	// renamed into view: a directory named with the prefix always has a
	// lock file, locked while its owner lives.
	staging, err := os.MkdirTemp("", "."+prefix)
	if err != nil {
		return nil, fmt.Errorf("creating a run directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(staging, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	path := filepath.Join(filepath.Dir(staging), strings.TrimPrefix(filepath.Base(staging), "."))
	if err == nil {
		err = os.Rename(staging, path)
	}
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, errors.Join(fmt.Errorf("locking run directory %s: %w", staging, err), os.RemoveAll(staging))
	}
	return &Dir{path: path, lock: lock}, nil
}

// Path is the directory.
func (d *Dir) Path() string { return d.path }

// Mkdir creates a fresh directory named name-* inside d.
func (d *Dir) Mkdir(name string) (string, error) {
	return os.MkdirTemp(d.path, name+"-")
}

// Release removes the directory and drops the lock. Processes started
// from it must have been stopped first.
func (d *Dir) Release() error {
	if d == nil {
		return nil
	}
	err := os.RemoveAll(d.path)
	return errors.Join(err, d.lock.Close())
}

// Kill ends every process started with a path in d, with SIGKILL, and
// waits until they are gone.
func (d *Dir) Kill() error { return killUsers(d.path) }

// DieWithParent returns an executable in d that runs binary with the
// parent-death signal set to SIGKILL, so the process dies with the one
// that starts it (for commands started by a library, such as envtest's
// etcd and kube-apiserver, whose process attributes we cannot set). Like
// any parent-death signal it fires when the starting thread exits; the Go
// runtime ends threads only when a goroutine locked to one exits. env
// ("NAME=value") is added to the process's environment.
func (d *Dir) DieWithParent(binary string, env ...string) (string, error) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		return "", fmt.Errorf("running %s so that it dies with this process needs setpriv (Debian package util-linux): %w", filepath.Base(binary), err)
	}
	bin := filepath.Join(d.path, "bin")
	if err := os.MkdirAll(bin, 0o700); err != nil {
		return "", err
	}
	wrapper := filepath.Join(bin, filepath.Base(binary))
	var assign strings.Builder
	for _, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t\n'\"$=") {
			return "", fmt.Errorf("environment entry %q is not NAME=value", kv)
		}
		assign.WriteString(shellQuote(kv) + " ")
	}
	script := fmt.Sprintf("#!/bin/sh\nexec env %s%s --pdeathsig KILL -- %s \"$@\"\n", assign.String(), shellQuote(setpriv), shellQuote(binary))
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		return "", fmt.Errorf("writing %s: %w", wrapper, err)
	}
	return wrapper, nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// reclaim removes the run directories in tmp whose owner is gone, after
// killing every process still using one (its command line names it).
func reclaim(tmp string) error {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("listing %s for stale run directories: %w", tmp, err)
	}
	var errs []error
	for _, e := range entries {
		// ".keyconform-run-*" is one a Claim was killed in the middle of.
		if !e.IsDir() || !strings.HasPrefix(strings.TrimPrefix(e.Name(), "."), prefix) {
			continue
		}
		if err := reclaimOne(filepath.Join(tmp, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func reclaimOne(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return nil // already gone
	}
	young := time.Since(info.ModTime()) < unlockedGrace
	if young && strings.HasPrefix(filepath.Base(dir), ".") {
		return nil // being claimed right now, maybe not locked yet
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if young {
			return nil // being released or reclaimed by another process
		}
	} else if err != nil {
		return nil // not ours to judge (another user's, say)
	} else {
		defer lock.Close()
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			return nil // its owner is alive
		}
	}
	if err := killUsers(dir); err != nil {
		return fmt.Errorf("reclaiming stale run directory %s: %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing stale run directory %s: %w", dir, err)
	}
	return nil
}

// killUsers sends SIGKILL to every process whose command line names dir
// and waits until they are gone, so none writes into it while it is
// removed.
func killUsers(dir string) error {
	pids := Users(dir)
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("killing process %d: %w", pid, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(pids) > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v still run after SIGKILL", pids)
		}
		time.Sleep(20 * time.Millisecond)
		pids = Users(dir)
	}
	return nil
}

// Users lists the live processes whose command line names dir or a path
// inside it: what a run directory's owner started.
func Users(dir string) []int {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	needle := []byte(filepath.Clean(dir) + "/")
	var pids []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		// A zombie's command line is empty: it runs nothing any more.
		if err != nil || len(cmdline) == 0 {
			continue
		}
		if bytes.Contains(cmdline, needle) {
			pids = append(pids, pid)
		}
	}
	return pids
}
