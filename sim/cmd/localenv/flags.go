package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/keyconform/keyconform/sim/dataplane"
	"github.com/keyconform/keyconform/sim/localenv"
)

type config struct {
	overrides      map[uint32]string
	logLevel       slog.Level
	implementation string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := config{overrides: map[uint32]string{}}
	fs := flag.NewFlagSet("localenv", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(dataplane.ListenOverrideFlag(c.overrides), "listen-override",
		"serve a Gateway listener port elsewhere on loopback: PORT=ADDR, repeatable, e.g. 8080=127.0.0.1:9080")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelWarn, "log level: debug, info, warn or error")
	fs.StringVar(&c.implementation, "implementation", localenv.ImplKeyconform,
		"the control plane serving Gateways: keyconform (the reference controller and the seed's sample app) or envoy-gateway (Envoy Gateway's own, from `make tools-envoy-gateway`, and its quickstart)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q; see -h", fs.Args())
	}
	if err := localenv.CheckImplementation(c.implementation); err != nil {
		return config{}, fmt.Errorf("--implementation: %w", err)
	}
	return c, nil
}
