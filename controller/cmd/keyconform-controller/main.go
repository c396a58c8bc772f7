// Command keyconform-controller is the reference controller: Gateway API
// objects, TrafficPolicies and Secrets in, Envoy configuration out over xDS.
// Each Gateway's data plane connects with node id "<namespace>/<name>".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/keyconform/keyconform/controller/controlplane"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "keyconform-controller: %v\nRun keyconform-controller -h for usage.\n", err)
		return exitUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	if err := serve(ctx, cfg, logger); err != nil {
		logger.Error("keyconform-controller stopped", "error", err)
		return exitError
	}
	return exitOK
}

// serve runs the controller until ctx ends or it fails.
func serve(ctx context.Context, cfg config, logger *slog.Logger) error {
	ctrl.SetLogger(logr.FromSlogHandler(logger.Handler()))
	restConfig, err := kubeConfig(cfg.kubeconfig)
	if err != nil {
		return err
	}
	opts := controlplane.Options{
		ControllerName:   cfg.controllerName,
		GatewayClassName: cfg.gatewayClass,
		MetricsAddress:   cfg.metricsAddress,
		HealthAddress:    cfg.healthAddress,
		Logger:           logger,
	}
	if cfg.provision == provisionEnvoy {
		opts.Provision = &cfg.envoy
	} else {
		opts.Addresses = cfg.gatewayAddrs.source()
	}
	cp, err := controlplane.New(restConfig, opts)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.xdsAddress)
	if err != nil {
		return fmt.Errorf("listening for xDS on %s: %w", cfg.xdsAddress, err)
	}
	logger.Info("keyconform-controller starting",
		"controller", cfg.controllerName, "gatewayclass", cfg.gatewayClass, "provision", cfg.provision,
		"xds", lis.Addr().String(), "metrics", cfg.metricsAddress, "health", cfg.healthAddress)
	return cp.Run(ctx, lis)
}

// kubeConfig loads an explicit kubeconfig, or else follows the usual
// order: $KUBECONFIG, in-cluster, ~/.kube/config.
func kubeConfig(path string) (*rest.Config, error) {
	if path == "" {
		c, err := ctrl.GetConfig()
		if err != nil {
			return nil, fmt.Errorf("no Kubernetes API configuration (pass -kubeconfig, set KUBECONFIG, or run in a cluster): %w", err)
		}
		return c, nil
	}
	c, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("loading -kubeconfig %s: %w", path, err)
	}
	return c, nil
}
