package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/provision"
	"github.com/keyconform/keyconform/controller/reconcile"
)

// config is the parsed command line.
type config struct {
	kubeconfig     string
	controllerName gwv1.GatewayController
	gatewayClass   string
	xdsAddress     string
	metricsAddress string
	healthAddress  string
	gatewayAddrs   gatewayAddresses
	logLevel       slog.Level
	// provision says who runs the Gateways' data planes: provisionNone
	// (someone else, e.g. the local environment) or provisionEnvoy (this
	// controller, as Envoy Deployments configured by envoy).
	provision string
	envoy     provision.Config
}

// Values of -provision.
const (
	provisionNone  = "none"
	provisionEnvoy = "envoy"
)

// parseFlags parses and validates args. Every problem found is reported,
// not only the first. flag.ErrHelp means -h was asked for.
func parseFlags(args []string, out io.Writer) (config, error) {
	cfg := config{gatewayAddrs: gatewayAddresses{}, envoy: provision.DefaultConfig()}
	var controllerName, logLevel, serviceType string
	fs := flag.NewFlagSet("keyconform-controller", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, "Usage: keyconform-controller [flags]\n\n"+
			"Watches Gateway API objects, TrafficPolicies and Secrets and serves\n"+
			"the Envoy configuration they translate to over xDS (ADS, gRPC).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.kubeconfig, "kubeconfig", "", "path to a kubeconfig; default: $KUBECONFIG, in-cluster config, then ~/.kube/config")
	fs.StringVar(&controllerName, "controller-name", string(reconcile.DefaultControllerName), "spec.controllerName of the GatewayClasses to serve")
	fs.StringVar(&cfg.gatewayClass, "gateway-class", reconcile.DefaultGatewayClassName, "GatewayClass to create at start if absent")
	fs.StringVar(&cfg.xdsAddress, "xds-address", "127.0.0.1:18000", "host:port the xDS (ADS) server listens on; in a cluster pass :18000")
	fs.StringVar(&cfg.metricsAddress, "metrics-address", "127.0.0.1:18080", `host:port of the Prometheus metrics endpoint (/metrics); "0" disables it`)
	fs.StringVar(&cfg.healthAddress, "health-address", "127.0.0.1:18081", `host:port of the /healthz and /readyz endpoints; "0" disables them`)
	fs.Var(cfg.gatewayAddrs, "gateway-address", "NAMESPACE/NAME=ADDRESS: an IP or hostname reported in that Gateway's status (repeatable)")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&cfg.provision, "provision", provisionNone, `who runs each Gateway's data plane: "none" (someone else: the local environment, or your own) or "envoy" (this controller creates an Envoy Deployment, Service, ConfigMap and ServiceAccount named after each Gateway, and reports the Service's address in the Gateway's status)`)
	fs.StringVar(&cfg.envoy.EnvoyImage, "envoy-image", provision.DefaultEnvoyImage, "with -provision=envoy: the Envoy image, pinned by tag or digest (Envoy 1.35 or later)")
	fs.StringVar(&cfg.envoy.XDSAddress, "envoy-xds-address", provision.DefaultXDSAddress, "with -provision=envoy: host:port at which Envoy pods reach this controller's xDS server (its Service)")
	fs.StringVar(&serviceType, "envoy-service-type", string(provision.DefaultServiceType), "with -provision=envoy: type of each Gateway's Service: LoadBalancer, ClusterIP or NodePort")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}

	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q: every setting is a flag", fs.Args()))
	}
	cfg.controllerName = gwv1.GatewayController(controllerName)
	if err := (reconcile.Options{ControllerName: cfg.controllerName, GatewayClassName: cfg.gatewayClass}).Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs,
		checkListenAddress("xds-address", cfg.xdsAddress, false),
		checkListenAddress("metrics-address", cfg.metricsAddress, true),
		checkListenAddress("health-address", cfg.healthAddress, true),
	)
	if err := cfg.logLevel.UnmarshalText([]byte(logLevel)); err != nil {
		errs = append(errs, fmt.Errorf("-log-level %q: want debug, info, warn or error", logLevel))
	}
	cfg.envoy.ServiceType = corev1.ServiceType(serviceType)
	errs = append(errs, checkProvision(fs, cfg))
	if err := errors.Join(errs...); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// checkProvision checks -provision and the flags that only it uses.
func checkProvision(fs *flag.FlagSet, cfg config) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch cfg.provision {
	case provisionEnvoy:
		if len(cfg.gatewayAddrs) > 0 {
			return errors.New("-gateway-address and -provision=envoy both set Gateway status addresses: drop -gateway-address, the provisioned Services supply them")
		}
		if err := cfg.envoy.Validate(); err != nil {
			return fmt.Errorf("-provision=envoy: %w", err)
		}
	case provisionNone:
		var errs []error
		for _, name := range []string{"envoy-image", "envoy-xds-address", "envoy-service-type"} {
			if set[name] {
				errs = append(errs, fmt.Errorf("-%s has no effect without -provision=envoy", name))
			}
		}
		return errors.Join(errs...)
	default:
		return fmt.Errorf("-provision %q: want %q or %q", cfg.provision, provisionNone, provisionEnvoy)
	}
	return nil
}

// checkListenAddress accepts host:port with a port in 0..65535 (0: any
// free port), and "0" where the endpoint may be disabled.
func checkListenAddress(name, addr string, mayDisable bool) error {
	if mayDisable && addr == "0" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-%s %q: want host:port, e.g. 127.0.0.1:18000 or :18000: %w", name, addr, err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("-%s %q: port %q is not a number from 0 to 65535", name, addr, port)
	} else if n == 0 && !mayDisable {
		return fmt.Errorf("-%s %q: a fixed port is needed, data planes must know where to connect", name, addr)
	}
	if host != "" && net.ParseIP(host) == nil && len(validation.IsDNS1123Subdomain(host)) > 0 {
		return fmt.Errorf("-%s %q: host %q is neither an IP address nor a host name", name, addr, host)
	}
	return nil
}

// gatewayAddresses collects repeated -gateway-address flags.
type gatewayAddresses map[types.NamespacedName][]gwv1.GatewayStatusAddress

func (g gatewayAddresses) String() string {
	var parts []string
	for gw, addrs := range g {
		for _, a := range addrs {
			parts = append(parts, gw.String()+"="+a.Value)
		}
	}
	return strings.Join(parts, ",")
}

func (g gatewayAddresses) Set(v string) error {
	gw, addr, ok := strings.Cut(v, "=")
	ns, name, ok2 := strings.Cut(gw, "/")
	if !ok || !ok2 {
		return fmt.Errorf("%q: want NAMESPACE/NAME=ADDRESS, e.g. kgateway-system/http=127.0.0.1", v)
	}
	if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
		return fmt.Errorf("%q: namespace %q: %s", v, ns, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return fmt.Errorf("%q: Gateway name %q: %s", v, name, strings.Join(msgs, "; "))
	}
	typ := gwv1.IPAddressType
	if net.ParseIP(addr) == nil {
		if msgs := validation.IsDNS1123Subdomain(addr); len(msgs) > 0 {
			return fmt.Errorf("%q: address %q is neither an IP address nor a host name (no port: Gateway status addresses have none)", v, addr)
		}
		typ = gwv1.HostnameAddressType
	}
	key := types.NamespacedName{Namespace: ns, Name: name}
	g[key] = append(g[key], gwv1.GatewayStatusAddress{Type: &typ, Value: addr})
	return nil
}

// source serves the static addresses to the reconciler.
func (g gatewayAddresses) source() reconcile.AddressSource {
	return func(gw types.NamespacedName) []gwv1.GatewayStatusAddress { return g[gw] }
}
