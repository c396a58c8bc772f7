package localenv

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/keyconform/keyconform/sim/rundir"
)

// What is here injects faults into a running environment, for tests of an
// implementation's behaviour under them: each does to one component what
// a crash, a rollout or a network fault does on a cluster.

// controllerRun is one run of the reference controller.
type controllerRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	xds    netip.AddrPort // where it serves xDS, loopback
}

// RestartController stops the reference controller, as a crash or a
// rollout would (its xDS streams end with it), and starts a new one on
// the same xDS address, which rebuilds its state from the API server.
func (e *Env) RestartController(ctx context.Context) error {
	old := e.controller
	if old == nil {
		return errors.New("restarting the controller: this environment runs Envoy Gateway, not the reference controller")
	}
	old.cancel()
	select {
	case <-old.done:
	case <-ctx.Done():
		return fmt.Errorf("restarting the controller: the old one did not stop: %w", ctx.Err())
	}
	return e.runController(e.runCtx, old.xds.String())
}

// CutXDS closes every connection to the reference controller's xDS server,
// as a network fault would; data planes reconnect on their own. It returns
// how many connections it closed.
func (e *Env) CutXDS() int {
	if e.controller == nil {
		return 0
	}
	return e.network.Sever(e.controller.xds.String())
}

// RestartAPIServer kills kube-apiserver, as a crash or an OOM kill would
// (a graceful stop waits for every watch to end, which under load takes
// longer than envtest waits), and starts it again on the same address
// with the same certificates, etcd and its data kept: clients see the API
// go away and come back.
func (e *Env) RestartAPIServer() error {
	killed := false
	for _, pid := range rundir.Users(e.run.Path()) {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && strings.TrimSpace(string(comm)) == "kube-apiserver" {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				return fmt.Errorf("killing kube-apiserver (pid %d): %w", pid, err)
			}
			killed = true
		}
	}
	if !killed {
		return errors.New("restarting kube-apiserver: no kube-apiserver process of this environment")
	}
	s := e.testEnv.ControlPlane.APIServer
	if err := s.Stop(); err != nil {
		return fmt.Errorf("reaping the killed kube-apiserver: %w", err)
	}
	if err := s.Start(); err != nil {
		return fmt.Errorf("starting kube-apiserver again: %w", err)
	}
	return nil
}

// RejectNextRoutes makes every data plane refuse the next version of route
// configurations it is sent, as Envoy refuses a config it cannot load:
// each NACKs that version, again on every resend, and keeps serving the
// routes it had until a newer version comes. It returns a func that says
// how many updates were refused so far.
func (e *Env) RejectNextRoutes() func() int {
	return e.kubelet.rejects.arm()
}

// rejector is the NACK injector data planes ask before they apply an
// update (dataplane.Options.Reject).
type rejector struct {
	mu       sync.Mutex
	armed    bool
	bad      string // the refused route configuration version
	rejected int
}

func (r *rejector) arm() func() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armed, r.bad, r.rejected = true, "", 0
	return func() int {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.rejected
	}
}

func (r *rejector) check(typeURL, version string) error {
	if typeURL != resource.RouteType {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.armed {
		r.bad, r.armed = version, false
	}
	if r.bad == "" || version != r.bad {
		return nil
	}
	r.rejected++
	return fmt.Errorf("injected fault: route configuration version %s refused", version)
}
