package targets

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// restConfig loads cluster access as kubectl does (client-go's default
// loading rules): kubeconfig when given, else the files $KUBECONFIG lists,
// merged, else ~/.kube/config, else the in-cluster configuration; context,
// when given, replaces the current context.
func restConfig(kubeconfig, context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if err == nil {
		return cfg, nil
	}
	where := "$KUBECONFIG or ~/.kube/config"
	if kubeconfig != "" {
		where = kubeconfig
	}
	if context != "" {
		return nil, fmt.Errorf("cluster access from %s with context %q: %w (kubectl config get-contexts lists them)", where, context, err)
	}
	return nil, fmt.Errorf("cluster access from %s: %w (pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config)", where, err)
}

// gatewayNameLabel is the label Gateway API implementations put on what
// they provision for a Gateway (GEP-1762).
const gatewayNameLabel = "gateway.networking.k8s.io/gateway-name"

// clusterEnv is a Kubernetes cluster reached through a kubeconfig: the
// cluster target, and the kind target once its cluster is up.
type clusterEnv struct {
	handle  Handle
	config  *rest.Config
	client  client.Client
	kube    kubernetes.Interface
	onStop  func(ctx context.Context, failed bool) error
	pollGap time.Duration

	mu       sync.Mutex
	forwards map[string]*forward
}

func startCluster(_ context.Context, cfg Config) (Started, error) {
	env, err := newClusterEnv(Handle{Target: Cluster, Kubeconfig: cfg.Kubeconfig, Context: cfg.Context,
		GatewayClass: cfg.GatewayClass, GatewayAddress: cfg.GatewayAddress})
	if err != nil {
		return nil, err
	}
	return env, nil
}

func attachCluster(h Handle) (Attached, error) {
	env, err := newClusterEnv(h)
	if err != nil {
		return nil, err
	}
	return env, nil
}

// newClusterEnv connects as kubectl would with h's kubeconfig and context.
func newClusterEnv(h Handle) (*clusterEnv, error) {
	cfg, err := restConfig(h.Kubeconfig, h.Context)
	if err != nil {
		return nil, err
	}
	scheme, err := clusterScheme()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &clusterEnv{handle: h, config: cfg, client: c, kube: kube, pollGap: 500 * time.Millisecond, forwards: map[string]*forward{}}, nil
}

func (c *clusterEnv) RESTConfig() *rest.Config { return rest.CopyConfig(c.config) }
func (c *clusterEnv) GatewayClass() string     { return c.handle.GatewayClass }
func (c *clusterEnv) LoopbackOnly() bool       { return false }
func (c *clusterEnv) Handle() Handle           { return c.handle }

func (c *clusterEnv) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, f := range c.forwards {
		f.stop()
		delete(c.forwards, k)
	}
	return nil
}

func (c *clusterEnv) Stop(ctx context.Context, failed bool) error {
	err := c.Close()
	if c.onStop != nil {
		if stopErr := c.onStop(ctx, failed); stopErr != nil {
			return stopErr
		}
	}
	return err
}

// GatewayAddress resolves a listener by the configured address mode.
func (c *clusterEnv) GatewayAddress(ctx context.Context, gw types.NamespacedName, port uint32) (string, error) {
	switch mode := c.handle.GatewayAddress; mode {
	case AddressFromStatus:
		host, err := c.statusAddress(ctx, gw)
		if err != nil {
			return "", err
		}
		return net.JoinHostPort(host, strconv.FormatUint(uint64(port), 10)), nil
	case AddressPortForward:
		return c.portForward(ctx, gw, port)
	default:
		return net.JoinHostPort(mode, strconv.FormatUint(uint64(port), 10)), nil
	}
}

// statusAddress waits for the first address in the Gateway's status.
func (c *clusterEnv) statusAddress(ctx context.Context, gw types.NamespacedName) (string, error) {
	var host string
	err := wait.PollUntilContextCancel(ctx, c.pollGap, true, func(ctx context.Context) (bool, error) {
		var g gwv1.Gateway
		if err := c.client.Get(ctx, gw, &g); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		if len(g.Status.Addresses) == 0 {
			return false, nil
		}
		host = g.Status.Addresses[0].Value
		return true, nil
	})
	if err != nil {
		return "", fmt.Errorf("Gateway %s has no status address (%w); try --gateway-address=%s", gw, err, AddressPortForward)
	}
	return host, nil
}

// portForward forwards a loopback port to a ready pod behind the Gateway's
// Service, once per listener, like `kubectl port-forward svc/<gateway>`.
func (c *clusterEnv) portForward(ctx context.Context, gw types.NamespacedName, port uint32) (string, error) {
	key := fmt.Sprintf("%s:%d", gw, port)
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.forwards[key]; ok {
		return f.local, nil
	}
	var pod, podNamespace string
	var podPort int32
	err := wait.PollUntilContextCancel(ctx, c.pollGap, true, func(ctx context.Context) (bool, error) {
		svc, err := c.gatewayService(ctx, gw)
		if err != nil || svc == nil {
			return false, err
		}
		var pods corev1.PodList
		if err := c.client.List(ctx, &pods, client.InNamespace(svc.Namespace),
			client.MatchingLabelsSelector{Selector: labels.SelectorFromSet(svc.Spec.Selector)}); err != nil {
			return false, err
		}
		podNamespace = svc.Namespace
		pod, podPort, err = forwardTarget(*svc, pods.Items, port)
		return err == nil, nil
	})
	if err != nil {
		return "", fmt.Errorf("no ready pod serves port %d of Gateway %s (%w)", port, gw, err)
	}
	f, err := startForward(ctx, c.config, c.kube, podNamespace, pod, podPort)
	if err != nil {
		return "", err
	}
	c.forwards[key] = f
	return f.local, nil
}

// gatewayService finds the Service provisioned for a Gateway: labelled with
// its name (GEP-1762), in its namespace or in the implementation's own
// (Envoy Gateway provisions in envoy-gateway-system), else named after it.
func (c *clusterEnv) gatewayService(ctx context.Context, gw types.NamespacedName) (*corev1.Service, error) {
	var list corev1.ServiceList
	if err := c.client.List(ctx, &list, client.MatchingLabels{gatewayNameLabel: gw.Name}); err != nil {
		return nil, err
	}
	if svc, err := serviceOf(gw, list.Items); svc != nil || err != nil {
		return svc, err
	}
	var svc corev1.Service
	err := c.client.Get(ctx, gw, &svc)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return &svc, err
}

// serviceOf picks, among Services labelled with a Gateway's name, the one
// of that Gateway: in its namespace, else elsewhere with a label naming its
// namespace (a key ending in "gateway-namespace", as Envoy Gateway's
// gateway.envoyproxy.io/owning-gateway-namespace). Gateways of the same
// name in other namespaces are never taken for it.
func serviceOf(gw types.NamespacedName, labelled []corev1.Service) (*corev1.Service, error) {
	var elsewhere []*corev1.Service
	for i := range labelled {
		svc := &labelled[i]
		if svc.Namespace == gw.Namespace {
			return svc, nil
		}
		for k, v := range svc.Labels {
			if strings.HasSuffix(k, "gateway-namespace") && v == gw.Namespace {
				elsewhere = append(elsewhere, svc)
				break
			}
		}
	}
	switch len(elsewhere) {
	case 0:
		return nil, nil
	case 1:
		return elsewhere[0], nil
	}
	names := make([]string, len(elsewhere))
	for i, svc := range elsewhere {
		names[i] = svc.Namespace + "/" + svc.Name
	}
	return nil, fmt.Errorf("several Services are labelled for Gateway %s: %s", gw, strings.Join(names, ", "))
}

// forwardTarget picks a ready pod of svc and the container port behind
// service port port.
func forwardTarget(svc corev1.Service, pods []corev1.Pod, port uint32) (string, int32, error) {
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if uint32(svc.Spec.Ports[i].Port) == port {
			sp = &svc.Spec.Ports[i]
		}
	}
	if sp == nil {
		return "", 0, fmt.Errorf("Service %s/%s has no port %d", svc.Namespace, svc.Name, port)
	}
	for _, p := range pods {
		if p.DeletionTimestamp != nil || !podReady(p) {
			continue
		}
		if cp, ok := containerPort(p, *sp); ok {
			return p.Name, cp, nil
		}
	}
	return "", 0, fmt.Errorf("no ready pod of Service %s/%s exposes its port %d", svc.Namespace, svc.Name, port)
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// containerPort resolves a Service port's targetPort (number, name, or
// unset meaning the port itself) in pod p.
func containerPort(p corev1.Pod, sp corev1.ServicePort) (int32, bool) {
	tp := sp.TargetPort
	switch {
	case tp.StrVal != "":
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == tp.StrVal {
					return cp.ContainerPort, true
				}
			}
		}
		return 0, false
	case tp.IntVal != 0:
		return tp.IntVal, true
	default:
		return sp.Port, true
	}
}
