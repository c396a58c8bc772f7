package localenv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/keyconform/keyconform/sim/kubeassets"
)

// Envoy Gateway's fixed names and ports in Kubernetes mode.
const (
	envoyGatewayNamespace = "envoy-gateway-system"
	envoyGatewayXDSPort   = 18000
	// envoyGatewayHealth is its controller-runtime health probe (/readyz).
	envoyGatewayHealth = "127.0.0.1:8081"
	// envoyGatewayCertDir is where, in Kubernetes mode, it reads its xDS
	// server certificate (tls.crt, tls.key, ca.crt): its pod mounts the
	// Secret envoy-gateway there.
	envoyGatewayCertDir = "/certs"
)

// envoyGatewayConfig is its EnvoyGateway configuration: the Kubernetes
// provider, without the topology injector webhook (nothing would call it:
// there is no kubelet to admit pods).
const envoyGatewayConfig = `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyGateway
gateway:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
provider:
  type: Kubernetes
  kubernetes:
    proxyTopologyInjector:
      disabled: true
logging:
  level:
    default: info
`

// withCertDir runs a command in a user and mount namespace of its own in
// which dir is mounted at /certs, and nothing else changes: a tmpfs root
// holding bind mounts of every top-level directory of the host, plus
// /certs. The host's file system is never written to, and the command runs
// as the invoking user.
const withCertDir = `set -eu
root=$1 certs=$2
shift 2
mount -t tmpfs keyconform-root "$root"
for dir in /*; do
	[ -d "$dir" ] && [ ! -L "$dir" ] || continue
	mkdir -p "$root$dir"
	mount --rbind "$dir" "$root$dir"
done
for link in /*; do
	[ -L "$link" ] && ln -s "$(readlink "$link")" "$root$link"
done
mkdir -p "$root` + envoyGatewayCertDir + `"
mount --bind "$certs" "$root` + envoyGatewayCertDir + `"
cd /
exec chroot "$root" "$@"
`

// envoyGateway is Envoy Gateway's control plane running as a process of
// this machine against the environment's API server, unmodified.
type envoyGateway struct {
	cmd  *exec.Cmd
	log  string // its log file
	done chan error
}

// startEnvoyGateway prepares what Envoy Gateway's Helm chart would (its
// namespace, its certificates by its own certgen), starts its server, and
// publishes its xDS server as the Service its Envoy pods dial.
func (e *Env) startEnvoyGateway(ctx context.Context, eg kubeassets.EnvoyGateway) (*envoyGateway, error) {
	log := e.log.With("component", "envoy-gateway")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: envoyGatewayNamespace}}
	if err := e.client.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", envoyGatewayNamespace, err)
	}
	env := append(os.Environ(), "KUBECONFIG="+e.kubeconfig, "ENVOY_GATEWAY_NAMESPACE="+envoyGatewayNamespace)
	certgen := exec.CommandContext(ctx, eg.Binary, "certgen", "--disable-topology-injector")
	certgen.Env = env
	if out, err := certgen.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("envoy-gateway certgen: %w\n%s", err, out)
	}
	dir := filepath.Join(e.run.Path(), "envoy-gateway")
	certs := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certs, 0o700); err != nil {
		return nil, err
	}
	if err := e.writeSecretFiles(ctx, types.NamespacedName{Namespace: envoyGatewayNamespace, Name: "envoy-gateway"}, certs, "tls.crt", "tls.key", "ca.crt"); err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "envoy-gateway.yaml")
	if err := os.WriteFile(config, []byte(envoyGatewayConfig), 0o600); err != nil {
		return nil, err
	}
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, fmt.Errorf("running Envoy Gateway needs unshare (util-linux) to give it %s: %w", envoyGatewayCertDir, err)
	}
	logFile, err := os.Create(filepath.Join(dir, "envoy-gateway.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(unshare, "--user", "--map-root-user", "--mount", "--propagation", "private", "--kill-child",
		"sh", "-c", withCertDir, "with-cert-dir", root, certs, eg.Binary, "server", "--config-path", config)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Envoy Gateway dies with the environment, however the environment
	// ends (unshare --kill-child takes Envoy Gateway with it).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting Envoy Gateway: %w", err)
	}
	run := &envoyGateway{cmd: cmd, log: logFile.Name(), done: make(chan error, 1)}
	go func() {
		run.done <- cmd.Wait()
		logFile.Close()
	}()
	log.Info("Envoy Gateway started", "pid", cmd.Process.Pid, "log", logFile.Name())
	if err := run.awaitReady(ctx, logFile.Name()); err != nil {
		return nil, errors.Join(err, run.stop())
	}
	if err := e.PublishHostService(ctx, types.NamespacedName{Namespace: envoyGatewayNamespace, Name: "envoy-gateway"},
		envoyGatewayXDSPort, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), envoyGatewayXDSPort)); err != nil {
		return nil, errors.Join(err, run.stop())
	}
	return run, nil
}

// EnvoyGatewayLog is the file Envoy Gateway's control plane logs to, when
// the environment runs it; it goes with the environment.
func (e *Env) EnvoyGatewayLog() string {
	if e.envoyGateway == nil {
		return ""
	}
	return e.envoyGateway.log
}

// writeSecretFiles writes the Secret's keys as files in dir, as a volume
// mount would.
func (e *Env) writeSecretFiles(ctx context.Context, key types.NamespacedName, dir string, keys ...string) error {
	var s corev1.Secret
	if err := e.client.Get(ctx, key, &s); err != nil {
		return fmt.Errorf("reading Secret %s: %w", key, err)
	}
	for _, k := range keys {
		v, ok := s.Data[k]
		if !ok {
			return fmt.Errorf("Secret %s has no key %q", key, k)
		}
		if err := os.WriteFile(filepath.Join(dir, k), v, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// awaitReady waits for Envoy Gateway's readiness probe.
func (g *envoyGateway) awaitReady(ctx context.Context, logPath string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	for {
		if resp, err := c.Get("http://" + envoyGatewayHealth + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-g.done:
			g.done <- err
			return fmt.Errorf("Envoy Gateway exited before it was ready (%v); its log: %s", err, logPath)
		case <-ctx.Done():
			return fmt.Errorf("Envoy Gateway not ready on %s within a minute; its log: %s", envoyGatewayHealth, logPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop ends Envoy Gateway and waits for it.
func (g *envoyGateway) stop() error {
	if g == nil {
		return nil
	}
	_ = syscall.Kill(-g.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL)
		<-g.done
	}
	return nil
}
