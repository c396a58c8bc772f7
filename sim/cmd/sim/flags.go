package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/keyconform/keyconform/sim/dataplane"
	"github.com/keyconform/keyconform/sim/podnet"
)

type config struct {
	xdsAddress   string
	nodeID       string
	nodeCluster  string
	adminAddress string
	overrides    map[uint32]string
	pods         []podnet.Mapping
	logLevel     slog.Level
}

// podFlag collects repeated --pod-network VIRTUAL=LOOPBACK[,...].
type podFlag []podnet.Mapping

func (p *podFlag) String() string { return fmt.Sprint(*p) }

func (p *podFlag) Set(v string) error {
	ms, err := podnet.ParseMappings(v)
	if err != nil {
		return err
	}
	*p = append(*p, ms...)
	return nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := config{overrides: map[uint32]string{}}
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.xdsAddress, "xds-address", "", "control plane ADS address, loopback host:port (required), e.g. 127.0.0.1:18000")
	fs.StringVar(&c.nodeID, "node-id", "", `xDS node id: the Gateway's "<namespace>/<name>" (required), e.g. kgateway-system/http`)
	fs.StringVar(&c.nodeCluster, "node-cluster", "keyconform-sim", "xDS node cluster")
	fs.StringVar(&c.adminAddress, "admin-address", "127.0.0.1:19000", "admin endpoint (/ready, /stats, /config_dump), loopback IP:port")
	fs.Var(dataplane.ListenOverrideFlag(c.overrides), "listen-override", "bind a listener port elsewhere than 127.0.0.1:<port>: PORT=ADDR, repeatable, e.g. 8080=127.0.0.1:0")
	pods := podFlag{}
	fs.Var(&pods, "pod-network", "simulated pod network entries VIRTUAL_IP:PORT=LOOPBACK_IP:PORT[,...], repeatable, e.g. 10.244.0.10:8000=127.0.0.1:38000")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var missing []string
	if c.xdsAddress == "" {
		missing = append(missing, "--xds-address")
	}
	if c.nodeID == "" {
		missing = append(missing, "--node-id")
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("missing %s (see -h)", strings.Join(missing, " and "))
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, errors.New("--log-level: want debug, info, warn or error")
	}
	c.pods = pods
	return c, nil
}
