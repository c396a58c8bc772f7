// Package apiservertest gives tests a real kube-apiserver and etcd
// (controller-runtime's envtest, on the binaries `make tools` builds) with
// the project's CRDs installed. Missing binaries fail the test with the
// advice to run `make tools`; they never skip it.
package apiservertest

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/keyconform/keyconform/sim/kubeassets"
	"github.com/keyconform/keyconform/sim/rundir"
)

// Start runs an API server until the test ends.
func Start(t testing.TB) (*envtest.Environment, *rest.Config) {
	t.Helper()
	env, cfg, err := start(RunDir(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping kube-apiserver and etcd: %v", err)
		}
	})
	return env, cfg
}

// RunDir claims a run directory (rundir) for the test's control plane,
// released when the test ends: nothing the test starts outlives it, even
// if a timeout kills the test binary.
func RunDir(t testing.TB) *rundir.Dir {
	t.Helper()
	d, err := rundir.Claim()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Release(); err != nil {
			t.Errorf("releasing %s: %v", d.Path(), err)
		}
	})
	return d
}

// Shared is one API server for all the tests of a package, started by the
// first test that asks; stop it from TestMain.
type Shared struct {
	once sync.Once
	run  *rundir.Dir
	env  *envtest.Environment
	cfg  *rest.Config
	err  error
}

// Config starts the shared API server if needed and returns its admin
// configuration.
func (s *Shared) Config(t testing.TB) *rest.Config {
	t.Helper()
	s.once.Do(func() {
		if s.run, s.err = rundir.Claim(); s.err == nil {
			s.env, s.cfg, s.err = start(s.run)
		}
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.cfg
}

// Stop stops the API server if it was started.
func (s *Shared) Stop() error {
	var err error
	if s.env != nil && s.cfg != nil {
		err = s.env.Stop()
	}
	return errors.Join(err, s.run.Release())
}

func start(run *rundir.Dir) (*envtest.Environment, *rest.Config, error) {
	env, err := kubeassets.Environment(run)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting kube-apiserver and etcd (envtest): %w", err)
	}
	return env, cfg, nil
}

// Main runs a package's tests with controller-runtime logging warnings to
// stderr, then stops s; call it from TestMain.
func (s *Shared) Main(m *testing.M) {
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping kube-apiserver and etcd: %v\n", err)
	}
	os.Exit(code)
}

// Client is an uncached client of the shared API server, as kubectl is,
// knowing the types addToScheme registers (e.g. reconcile.AddToScheme).
func (s *Shared) Client(t testing.TB, addToScheme func(*runtime.Scheme) error) client.Client {
	t.Helper()
	c, err := client.New(s.Config(t), client.Options{Scheme: Scheme(t, addToScheme)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Scheme is a scheme with the types addToScheme registers.
func Scheme(t testing.TB, addToScheme func(*runtime.Scheme) error) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := addToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// Eventually retries check until it returns nil, failing the test with its
// last error after timeout: the API server and controllers converge
// asynchronously.
func Eventually(t testing.TB, what string, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
