// Command sim is the simulated data plane: it connects to an xDS control
// plane on loopback as an Envoy of the given node id would, serves the
// listeners it receives on loopback, routes to endpoints through the
// simulated pod network, and serves an Envoy-like admin endpoint.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/keyconform/keyconform/sim/admin"
	"github.com/keyconform/keyconform/sim/dataplane"
	"github.com/keyconform/keyconform/sim/podnet"
	"github.com/keyconform/keyconform/sim/xdsclient"
)

func main() {
	c, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: c.logLevel}))
	network := podnet.New()
	if err := network.AddAll(c.pods); err != nil {
		return err
	}
	p, err := dataplane.New(dataplane.Options{
		XDS:             xdsclient.Options{ServerAddress: c.xdsAddress, NodeID: c.nodeID, NodeCluster: c.nodeCluster},
		ListenOverrides: c.overrides, Network: network, Logger: log,
	})
	if err != nil {
		return err
	}
	adm, err := admin.Start(c.adminAddress, p)
	if err != nil {
		return err
	}
	defer adm.Close()
	log.Info("sim started", "xds", c.xdsAddress, "node", c.nodeID, "admin", adm.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return p.Run(ctx)
}
