package localenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyconform/keyconform/sim/kubeassets"
	"github.com/keyconform/keyconform/sim/rundir"
)

// helperEnv names the implementation TestHelperEnvironment runs.
const helperEnv = "KEYCONFORM_LOCALENV_HELPER"

// TestKilledEnvironmentLeavesNoProcess starts an environment in a process
// of its own, kills that process with SIGKILL (as a CI runner's cancel or
// a test timeout does), and expects every process the environment started
// (etcd, kube-apiserver, Envoy Gateway) to die with it; the next Claim
// removes what the killed process left on disk.
func TestKilledEnvironmentLeavesNoProcess(t *testing.T) {
	if _, err := kubeassets.FindEnvoyGateway(); err != nil {
		t.Fatalf("%v (make test builds it)", err)
	}
	for _, impl := range []string{ImplKeyconform, ImplEnvoyGateway} {
		t.Run(impl, func(t *testing.T) {
			env := exec.Command(os.Args[0], "-test.run=^TestHelperEnvironment$")
			env.Env = append(os.Environ(), helperEnv+"="+impl)
			env.Stderr = os.Stderr
			out, err := env.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := env.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = env.Process.Kill() })
			dir, err := awaitRunDir(t.Context(), out)
			if err != nil {
				t.Fatal(err)
			}
			started := rundir.Users(dir)
			if len(started) < 2 {
				t.Fatalf("the environment in %s runs %v: want at least etcd and kube-apiserver", dir, commands(started))
			}
			t.Logf("the environment runs %v", commands(started))

			if err := env.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = env.Wait()
			deadline := time.Now().Add(10 * time.Second)
			for left := rundir.Users(dir); len(left) > 0; left = rundir.Users(dir) {
				if time.Now().After(deadline) {
					t.Fatalf("10 s after the environment was killed, %v still run", commands(left))
				}
				time.Sleep(20 * time.Millisecond)
			}

			next, err := rundir.Claim()
			if err != nil {
				t.Fatal(err)
			}
			defer next.Release()
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the killed environment's directory %s is still there after the next Claim (stat: %v)", dir, err)
			}
		})
	}
}

// TestHelperEnvironment is TestKilledEnvironmentLeavesNoProcess's
// environment process, not a test of its own: it starts an environment,
// prints its run directory and waits to be killed.
func TestHelperEnvironment(t *testing.T) {
	impl := os.Getenv(helperEnv)
	if impl == "" {
		return
	}
	env, err := Start(context.Background(), Options{Implementation: impl})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("run-dir %s\n", env.run.Path())
	select {}
}

func awaitRunDir(ctx context.Context, out interface{ Read([]byte) (int, error) }) (string, error) {
	found := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if dir, ok := strings.CutPrefix(lines.Text(), "run-dir "); ok {
				found <- dir
				return
			}
		}
		close(found)
	}()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	select {
	case dir, ok := <-found:
		if !ok {
			return "", errors.New("the environment process ended without printing its run directory")
		}
		return dir, nil
	case <-ctx.Done():
		return "", fmt.Errorf("the environment did not start: %w", ctx.Err())
	}
}

// commands names processes for messages: pid and executable.
func commands(pids []int) []string {
	var out []string
	for _, pid := range pids {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		out = append(out, fmt.Sprintf("%d %s", pid, exe))
	}
	return out
}
