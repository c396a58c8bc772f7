package localenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/keyconform/keyconform/sim/admin"
	"github.com/keyconform/keyconform/sim/dataplane"
	"github.com/keyconform/keyconform/sim/echobasic"
	"github.com/keyconform/keyconform/sim/envoybootstrap"
	"github.com/keyconform/keyconform/sim/httpbin"
	"github.com/keyconform/keyconform/sim/podnet"
	"github.com/keyconform/keyconform/sim/xdsclient"
)

// Images the environment runs in process.
const (
	httpbinImage = "mccutchen/go-httpbin"
	envoyImage   = "envoyproxy/envoy*"
	// kgatewayEnvoyImage is kgateway's Envoy image, whose entrypoint
	// (envoyinit) runs Envoy with the bootstrap it reads from a file.
	kgatewayEnvoyImage = "kgateway-dev/envoy-wrapper"
	// The Gateway API echo server, released and staging.
	echoBasicImage        = "gateway-api/echo-basic"
	echoBasicStagingImage = "k8s-staging-gateway-api/echo-basic"
	// envoyGatewayImage is Envoy Gateway's own image; its Envoy pods run
	// it as the shutdown-manager container.
	envoyGatewayImage = "envoyproxy/gateway*"
)

// AdminAddressAnnotation, on a pod running Envoy, is where its admin
// interface (/ready, /stats, /config_dump with keys redacted) is served on
// this machine's loopback.
const AdminAddressAnnotation = "localenv.keyconform.dev/admin-address"

// container is one running container of a simulated pod.
type container interface {
	// ready is closed once the container passes its readiness checks.
	ready() <-chan struct{}
	// annotations are written on the Pod once it runs.
	annotations() map[string]string
	stop() error
}

// containerStart is what the pod's container runs in: the Pod (with its IP
// in status), the container, its network namespace and a reader of the
// API server for its volumes and environment.
type containerStart struct {
	pod *corev1.Pod
	c   *corev1.Container
	// files are the volumes c mounts, materialised when the pod started.
	files  *podFS
	net    *podnet.Pod
	reader client.Reader
	log    *slog.Logger
	// reject is the environment's injector of NACKs (Env.RejectNextRoutes).
	reject func(typeURL, version string) error
}

// imageRuntime starts the containers of one image.
type imageRuntime struct {
	name  string
	match func(image string) bool
	start func(ctx context.Context, s containerStart) (container, error)
}

// runtimes are the images the environment can run: go-httpbin, and Envoy
// (its official images and extra repositories, for implementations that
// ship Envoy in an image of their own).
func runtimes(extraEnvoyImages []string) []imageRuntime {
	envoy := append([]string{envoyImage}, extraEnvoyImages...)
	return []imageRuntime{
		{name: "go-httpbin", match: repoIn(httpbinImage), start: startHTTPBin},
		{name: "envoy", match: repoIn(envoy...), start: func(ctx context.Context, s containerStart) (container, error) {
			return startEnvoy(ctx, s, nil)
		}},
		{name: "kgateway envoy-wrapper", match: repoIn(kgatewayEnvoyImage), start: func(ctx context.Context, s containerStart) (container, error) {
			return startEnvoy(ctx, s, envoyInit)
		}},
		{name: "echo-basic", match: repoIn(echoBasicImage, echoBasicStagingImage), start: startEchoBasic},
		{name: "Envoy Gateway shutdown-manager", match: repoIn(envoyGatewayImage), start: startShutdownManager},
	}
}

// repoIn matches an image whose repository (registry host and tag or
// digest aside) ends with one of repos; a repo ending in "*" matches any
// repository name it begins (envoyproxy/envoy* is envoy, envoy-dev,
// envoy-distroless, envoy-contrib).
func repoIn(repos ...string) func(string) bool {
	return func(image string) bool {
		name, _, _ := strings.Cut(image, "@")
		if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
			name = name[:i]
		}
		for _, r := range repos {
			if prefix, ok := strings.CutSuffix(r, "*"); ok {
				last := name
				if n := strings.Count(prefix, "/") + 1; strings.Count(name, "/") >= n {
					parts := strings.Split(name, "/")
					last = strings.Join(parts[len(parts)-n:], "/")
				}
				if strings.HasPrefix(last, prefix) {
					return true
				}
			} else if name == r || strings.HasSuffix(name, "/"+r) {
				return true
			}
		}
		return false
	}
}

// closedReady is the readiness of a container that is ready once started.
var closedReady = func() <-chan struct{} { c := make(chan struct{}); close(c); return c }()

type httpbinContainer struct{ servers []*httpbin.Server }

func (h *httpbinContainer) ready() <-chan struct{}         { return closedReady }
func (h *httpbinContainer) annotations() map[string]string { return nil }
func (h *httpbinContainer) stop() error {
	var errs []error
	for _, s := range h.servers {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// startHTTPBin serves go-httpbin on each declared container port (8080,
// go-httpbin's default, when none is declared).
func startHTTPBin(_ context.Context, s containerStart) (container, error) {
	ports := s.c.Ports
	if len(ports) == 0 {
		ports = []corev1.ContainerPort{{ContainerPort: 8080}}
	}
	h := &httpbinContainer{}
	for _, p := range ports {
		ln, err := s.net.Listen(netip.IPv4Unspecified(), uint16(p.ContainerPort))
		if err != nil {
			return nil, errors.Join(err, h.stop())
		}
		h.servers = append(h.servers, httpbin.Serve(ln))
	}
	return h, nil
}

type echoBasicContainer struct{ srv *echobasic.Server }

func (e *echoBasicContainer) ready() <-chan struct{}         { return closedReady }
func (e *echoBasicContainer) annotations() map[string]string { return nil }
func (e *echoBasicContainer) stop() error                    { return e.srv.Close() }

// startEchoBasic serves the Gateway API echo server on the ports its
// environment selects, as the image does.
func startEchoBasic(ctx context.Context, s containerStart) (container, error) {
	env, err := containerEnv(ctx, s.reader, s.pod, s.c)
	if err != nil {
		return nil, err
	}
	srv, err := echobasic.Start(echobasic.Options{
		Env:      env,
		Listen:   func(port int) (net.Listener, error) { return s.net.Listen(netip.IPv4Unspecified(), uint16(port)) },
		ReadFile: s.files.read,
	})
	if err != nil {
		return nil, fmt.Errorf("echo-basic: %w", err)
	}
	return &echoBasicContainer{srv: srv}, nil
}

// shutdownManagerPort and its paths are Envoy Gateway's shutdown manager's
// (internal/cmd/envoy/shutdown_manager.go).
const shutdownManagerPort = 19002

type shutdownManager struct{ srv *http.Server }

func (m *shutdownManager) ready() <-chan struct{}         { return closedReady }
func (m *shutdownManager) annotations() map[string]string { return nil }
func (m *shutdownManager) stop() error                    { return m.srv.Close() }

// startShutdownManager stands in for Envoy Gateway's shutdown-manager
// container: it answers the container's probes (/healthz) and the drain
// check (/shutdown/ready) on its port. What it really does, draining Envoy
// before the pod goes, only matters for a pod's graceful termination, which
// the local environment does not simulate: a deleted pod stops at once.
// Any other use of Envoy Gateway's image is refused.
func startShutdownManager(_ context.Context, s containerStart) (container, error) {
	if !slices.Equal(s.c.Command, []string{"envoy-gateway"}) || len(s.c.Args) < 2 || s.c.Args[0] != "envoy" || s.c.Args[1] != "shutdown-manager" {
		return nil, fmt.Errorf("container %q: of Envoy Gateway's image the local environment runs only `envoy-gateway envoy shutdown-manager`, not %q", s.c.Name, append(s.c.Command, s.c.Args...))
	}
	ln, err := s.net.Listen(netip.IPv4Unspecified(), shutdownManagerPort)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for _, path := range []string{"/healthz", "/shutdown/ready"} {
		mux.HandleFunc("GET "+path, func(http.ResponseWriter, *http.Request) {})
	}
	m := &shutdownManager{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

type envoyContainer struct {
	proxy  *dataplane.Proxy
	admin  *admin.Server
	cancel context.CancelFunc
	done   chan struct{}
	live   chan struct{}
}

func (e *envoyContainer) ready() <-chan struct{} { return e.live }
func (e *envoyContainer) annotations() map[string]string {
	if e.admin == nil {
		return nil
	}
	return map[string]string{AdminAddressAnnotation: e.admin.Addr()}
}

func (e *envoyContainer) stop() error {
	e.cancel()
	<-e.done
	if e.admin != nil {
		return e.admin.Close()
	}
	return nil
}

// entrypoint turns a container's command and args, expanded, into Envoy's
// command line, as an image's own entrypoint would.
type entrypoint func(env map[string]string, files *podFS, command, args []string) ([]string, []string, error)

// envoyInit is kgateway's envoyinit entrypoint (its envoy-wrapper image):
// it reads the bootstrap from $INPUT_CONF (default /etc/envoy/envoy.yaml)
// and runs `envoy --config-yaml <bootstrap> <args>`. It also expands
// downward API templates in the file and adds a static Secret of the
// system's CA bundle; neither is implemented: a template is refused, and
// no bootstrap of kgateway's proxies refers to that Secret.
func envoyInit(env map[string]string, files *podFS, command, args []string) ([]string, []string, error) {
	if len(command) > 0 {
		return command, args, nil // entrypoint overridden: Envoy's own command line
	}
	path := env["INPUT_CONF"]
	if path == "" {
		path = "/etc/envoy/envoy.yaml"
	}
	b, err := files.read(path)
	if err != nil {
		return nil, nil, fmt.Errorf("envoyinit: reading the bootstrap: %w", err)
	}
	if strings.Contains(string(b), "{{") {
		return nil, nil, fmt.Errorf("envoyinit: %s uses downward API templates, which the local environment does not implement", path)
	}
	return []string{"envoy"}, append([]string{"--config-yaml", string(b)}, args...), nil
}

// startEnvoy runs a sim data plane configured only from what the pod gives
// Envoy: its command line (with $(VAR) expanded from its environment, as
// the kubelet does, then through the image's entrypoint when it has one of
// its own) and the files its bootstrap names, from its volumes.
func startEnvoy(ctx context.Context, s containerStart, entry entrypoint) (container, error) {
	env, err := containerEnv(ctx, s.reader, s.pod, s.c)
	if err != nil {
		return nil, err
	}
	command := make([]string, len(s.c.Command))
	for i, a := range s.c.Command {
		command[i] = expand(a, env)
	}
	args := make([]string, len(s.c.Args))
	for i, a := range s.c.Args {
		args[i] = expand(a, env)
	}
	files := s.files
	if entry != nil {
		if command, args, err = entry(env, files, command, args); err != nil {
			return nil, err
		}
	}
	envoyArgs, err := envoybootstrap.FromContainer(command, args)
	if err != nil {
		return nil, fmt.Errorf("envoy command line: %w", err)
	}
	cfg, err := envoybootstrap.Load(envoyArgs, files.read)
	if err != nil {
		return nil, fmt.Errorf("envoy bootstrap: %w", err)
	}
	log := s.log.With("pod", s.pod.Namespace+"/"+s.pod.Name, "container", s.c.Name)
	if len(cfg.Ignored) > 0 {
		log.Debug("envoy settings without effect in the sim", "ignored", cfg.Ignored)
	}
	opts := dataplane.Options{
		StaticListeners: cfg.Listeners,
		StaticClusters:  cfg.Clusters,
		Pod:             s.net,
		Logger:          log,
		Reject:          s.reject,
	}
	if ads := cfg.ADS; ads != nil {
		opts.XDS = xdsclient.Options{
			ServerAddress: ads.Address, Node: cfg.Node, TLS: ads.TLS, Delta: ads.Delta,
			NodeOnFirstMessageOnly: ads.NodeOnFirstMessageOnly,
			// The xDS cluster's connect_timeout bounds each attempt.
			Dial: func(ctx context.Context, addr string) (net.Conn, error) {
				ctx, cancel := context.WithTimeout(ctx, ads.ConnectTimeout)
				defer cancel()
				return s.net.DialContext(ctx, "tcp", addr)
			},
		}
		opts.InitialFetchTimeouts = map[string]time.Duration{
			resource.ListenerType: ads.LDSInitialFetchTimeout,
			resource.ClusterType:  ads.CDSInitialFetchTimeout,
		}
	}
	proxy, err := dataplane.New(opts)
	if err != nil {
		return nil, fmt.Errorf("envoy: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e := &envoyContainer{proxy: proxy, cancel: cancel, done: make(chan struct{}), live: make(chan struct{})}
	if cfg.Admin.IsValid() {
		ln, err := s.net.Listen(cfg.Admin.Addr(), cfg.Admin.Port())
		if err != nil {
			cancel()
			return nil, fmt.Errorf("envoy admin %s: %w", cfg.Admin, err)
		}
		e.admin = admin.Serve(ln, proxy)
	}
	go func() {
		defer close(e.done)
		if err := proxy.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("envoy stopped", "error", err)
		}
	}()
	go func() {
		if proxy.WaitReady(runCtx) == nil {
			close(e.live)
		}
	}()
	return e, nil
}
