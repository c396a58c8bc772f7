// Command localenv runs the local environment in the state the seed
// document's "Before you begin" describes: GatewayClass kgateway, Gateway
// kgateway-system/http listening on localhost:8080, and the httpbin sample
// app behind HTTPRoute httpbin for host www.example.com. It prints the
// shell lines to paste, then "ready", and runs until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/keyconform/keyconform/sim/kubeassets"
	"github.com/keyconform/keyconform/sim/localenv"
)

func main() {
	c, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "localenv:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "localenv:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config, out io.Writer) error {
	begin := time.Now()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: c.logLevel}))
	_, samplePort := localenv.SampleGatewayOf(c.implementation)
	if err := checkFree(listenAddress(c.overrides, samplePort), samplePort); err != nil {
		return err
	}
	kubectl, err := kubeassets.Binary("kubectl")
	if err != nil {
		return err
	}

	env, err := localenv.Start(ctx, localenv.Options{
		Logger: log, SeedLoopback: true, ListenOverrides: c.overrides, SampleApp: true, Implementation: c.implementation,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := env.Stop(); err != nil {
			log.Error("stopping the local environment", "error", err)
		}
	}()

	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	gateway, port := env.SampleGateway()
	addr, err := env.GatewayAddress(waitCtx, gateway, port)
	if err != nil {
		return fmt.Errorf("waiting for the gateway: %w", err)
	}
	admin, err := env.AdminAddress(waitCtx, gateway)
	if err != nil {
		return fmt.Errorf("waiting for the gateway's data plane: %w", err)
	}
	// "ready" means a request goes through: the data plane is LIVE.
	if err := awaitLive(waitCtx, admin); err != nil {
		return fmt.Errorf("waiting for the gateway's data plane: %w", err)
	}

	fmt.Fprintf(out, "export KUBECONFIG=%s\n", env.KubeconfigPath())
	fmt.Fprintf(out, "export PATH=%s:$PATH\n", filepath.Dir(kubectl))
	fmt.Fprintf(out, "# Gateway %s listener %d is served on http://%s (try: curl -i %s/headers -H 'host: www.example.com')\n",
		gateway, port, addr, localhostURL(addr))
	fmt.Fprintf(out, "# its data plane's admin interface: http://%s (/ready, /stats, /config_dump; every pod's is in its annotation %s)\n",
		admin, localenv.AdminAddressAnnotation)
	fmt.Fprintf(out, "ready in %s; press Ctrl-C to stop\n", time.Since(begin).Round(10*time.Millisecond))

	<-ctx.Done()
	fmt.Fprintln(out, "stopping")
	return nil
}

// awaitLive polls the data plane's admin /ready until it answers 200.
func awaitLive(ctx context.Context, admin string) error {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	for {
		resp, err := c.Get("http://" + admin + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("admin /ready: %s", resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func listenAddress(overrides map[uint32]string, port uint32) string {
	if a, ok := overrides[port]; ok {
		return a
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// checkFree fails early, with the remedy, when the gateway's port is taken:
// the data plane binds it only after the control plane is up, where the
// error would be a log line instead of an answer.
func checkFree(addr string, port uint32) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot serve the gateway on %s: %w\n"+
			"free the port, or choose another one: make run LISTEN_OVERRIDE=%d=127.0.0.1:9080 "+
			"(or --listen-override %d=127.0.0.1:9080)", addr, err, port, port)
	}
	return l.Close()
}

// localhostURL spells 127.0.0.1 as localhost, as the seed document does.
func localhostURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err == nil && host == "127.0.0.1" {
		return "localhost:" + port
	}
	return addr
}
