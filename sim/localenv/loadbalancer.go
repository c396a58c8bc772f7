package localenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/sim/podnet"
	"syscall"
)

// loadBalancer plays the cloud load balancer, as cloud-provider-kind or
// MetalLB do: each Service of type LoadBalancer gets an address of its own
// from the loopback range (127.0.0.0/8 is all loopback on Linux), its ports
// are served there and forwarded to the Service's cluster IP over the pod
// network, and the address goes into the Service's status. Two Gateways on
// the same port never collide, and a status address always reaches the
// Gateway it belongs to.
type loadBalancer struct {
	client client.Client
	net    *podnet.Network
	log    *slog.Logger
	// pinned Gateways' Services always get the given address (the seed's
	// Gateway keeps 127.0.0.1, so its documented commands work).
	pinned map[types.NamespacedName]netip.Addr
	// overrides serve a pinned Service's port elsewhere on loopback when
	// the port is taken; the Service then reports no address.
	overrides map[uint32]string
	pool      *ipAllocator

	mu      sync.Mutex
	running map[types.NamespacedName]*balancer
}

// balancer is one Service's load balancer.
type balancer struct {
	uid       types.UID
	addr      netip.Addr
	ports     []int32
	bound     map[int32]string // service port -> address served at
	listeners []net.Listener
	cancel    context.CancelFunc
}

// lbAttempts bounds how many pool addresses a Service tries before giving
// up; another program (or another environment) may hold a port on some.
const lbAttempts = 32

func (l *loadBalancer) setupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("localenv-load-balancer").
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
		For(&corev1.Service{}).
		Complete(l)
}

func (l *loadBalancer) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var svc corev1.Service
	if err := l.client.Get(ctx, req.NamespacedName, &svc); err != nil {
		if client.IgnoreNotFound(err) == nil {
			l.stop(req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.DeletionTimestamp != nil || svc.Spec.ClusterIP == "" {
		l.stop(req.NamespacedName)
		return reconcile.Result{}, nil
	}
	var ports []int32
	for _, p := range svc.Spec.Ports {
		if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
			ports = append(ports, p.Port)
		}
	}
	slices.Sort(ports)
	l.mu.Lock()
	b := l.running[req.NamespacedName]
	l.mu.Unlock()
	if b == nil || b.uid != svc.UID || !slices.Equal(b.ports, ports) {
		l.stop(req.NamespacedName)
		var err error
		if b, err = l.start(&svc, ports); err != nil {
			return reconcile.Result{}, err
		}
		l.mu.Lock()
		l.running[req.NamespacedName] = b
		l.mu.Unlock()
	}
	if err := l.report(ctx, &svc, b); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{}, l.announce(ctx, &svc, b)
}

// start binds every port of the Service on one address: its pinned one, or
// the first pool address where all of them are free.
func (l *loadBalancer) start(svc *corev1.Service, ports []int32) (*balancer, error) {
	key := client.ObjectKeyFromObject(svc)
	gw, ok := gatewayOf(&svc.ObjectMeta)
	if addr, pinned := l.pinned[gw]; ok && pinned {
		b, err := l.bind(svc, addr, ports, l.overrides)
		if err != nil {
			return nil, fmt.Errorf("load balancer of Service %s: %w; free the port, or serve it elsewhere: make run LISTEN_OVERRIDE=PORT=127.0.0.1:OTHER", key, err)
		}
		return b, nil
	}
	var last error
	for range lbAttempts {
		addr, err := l.pool.next()
		if err != nil {
			return nil, fmt.Errorf("load balancer of Service %s: %w", key, err)
		}
		b, err := l.bind(svc, addr, ports, nil)
		if err == nil {
			return b, nil
		}
		last = err
	}
	return nil, fmt.Errorf("load balancer of Service %s: no free address after %d tries: %w", key, lbAttempts, last)
}

func (l *loadBalancer) bind(svc *corev1.Service, addr netip.Addr, ports []int32, overrides map[uint32]string) (*balancer, error) {
	ctx, cancel := context.WithCancel(context.Background())
	b := &balancer{uid: svc.UID, addr: addr, ports: ports, bound: map[int32]string{}, cancel: cancel}
	for _, p := range ports {
		at := netip.AddrPortFrom(addr, uint16(p)).String()
		if o, ok := overrides[uint32(p)]; ok {
			at = o
		}
		ln, err := net.Listen("tcp", at)
		if err != nil {
			b.close()
			return nil, err
		}
		b.listeners = append(b.listeners, ln)
		b.bound[p] = ln.Addr().String()
		target := net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(p)))
		go l.serve(ctx, ln, target)
	}
	l.log.Info("load balancer serving", "service", client.ObjectKeyFromObject(svc).String(), "address", addr, "ports", ports)
	return b, nil
}

// serve forwards each connection to the Service's cluster IP, at layer 4
// as a cloud load balancer does.
func (l *loadBalancer) serve(ctx context.Context, ln net.Listener, target string) {
	for {
		in, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer in.Close()
			out, err := l.net.DialContext(ctx, "tcp", target)
			if err != nil {
				l.log.Debug("load balancer: no backend", "target", target, "error", err)
				return
			}
			defer out.Close()
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				if c, ok := dst.(interface{ CloseWrite() error }); ok {
					_ = c.CloseWrite()
				}
				done <- struct{}{}
			}
			go pipe(out, in)
			go pipe(in, out)
			<-done
			<-done
		}()
	}
}

func (b *balancer) close() {
	b.cancel()
	for _, ln := range b.listeners {
		_ = ln.Close()
	}
}

func (l *loadBalancer) stop(key types.NamespacedName) {
	l.mu.Lock()
	b := l.running[key]
	delete(l.running, key)
	l.mu.Unlock()
	if b != nil {
		b.close()
	}
}

func (l *loadBalancer) stopAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, b := range l.running {
		b.close()
		delete(l.running, key)
	}
}

// report writes the address into the Service's status when every port is
// served on it at its own number; otherwise the address would not reach
// the Service, and none is reported.
func (l *loadBalancer) report(ctx context.Context, svc *corev1.Service, b *balancer) error {
	var ingress []corev1.LoadBalancerIngress
	whole := true
	for _, p := range b.ports {
		whole = whole && b.bound[p] == netip.AddrPortFrom(b.addr, uint16(p)).String()
	}
	if whole {
		ingress = []corev1.LoadBalancerIngress{{IP: b.addr.String(), IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)}}
	}
	if equalIngress(svc.Status.LoadBalancer.Ingress, ingress) {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"loadBalancer": map[string]any{"ingress": ingress}}})
	if err != nil {
		return err
	}
	if err := l.client.Status().Patch(ctx, svc, client.RawPatch(types.MergePatchType, patch)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("reporting the address of Service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return nil
}

func equalIngress(a, b []corev1.LoadBalancerIngress) bool {
	return slices.EqualFunc(a, b, func(x, y corev1.LoadBalancerIngress) bool { return x.IP == y.IP && x.Hostname == y.Hostname })
}

// announce writes the addresses on the Gateway the Service serves, for
// anyone with a kubeconfig: tests in other processes, a user whose port
// was overridden.
func (l *loadBalancer) announce(ctx context.Context, svc *corev1.Service, b *balancer) error {
	gw, ok := gatewayOf(&svc.ObjectMeta)
	if !ok {
		return nil
	}
	addrs := map[uint32]string{}
	for p, a := range b.bound {
		addrs[uint32(p)] = a
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{ListenerAddressesAnnotation: FormatListenerAddresses(addrs)},
	}})
	if err != nil {
		return err
	}
	obj := &gwv1.Gateway{}
	obj.Namespace, obj.Name = gw.Namespace, gw.Name
	if err := l.client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("announcing the addresses of Gateway %s: %w", gw, err)
	}
	return nil
}

// gatewayOf finds the Gateway a Service (or pod) was provisioned for: the
// labels implementations put on it (Envoy Gateway's owning-gateway labels,
// in its own namespace; Gateway API's GEP-1762 label in the Gateway's), or
// its owner.
func gatewayOf(obj *metav1.ObjectMeta) (types.NamespacedName, bool) {
	if n := obj.Labels["gateway.envoyproxy.io/owning-gateway-name"]; n != "" {
		return types.NamespacedName{Namespace: obj.Labels["gateway.envoyproxy.io/owning-gateway-namespace"], Name: n}, true
	}
	if n := obj.Labels["gateway.networking.k8s.io/gateway-name"]; n != "" {
		return types.NamespacedName{Namespace: obj.Namespace, Name: n}, true
	}
	for _, ref := range obj.OwnerReferences {
		if ref.Kind == "Gateway" && ref.APIVersion == gwv1.GroupVersion.String() {
			return types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}, true
		}
	}
	return types.NamespacedName{}, false
}

// CanBindPrivilegedPorts says whether this process may bind ports below
// 1024, which load balancers bind for Gateway listeners such as 80 and
// 443: as root, or with net.ipv4.ip_unprivileged_port_start lowered.
func CanBindPrivilegedPorts() bool {
	ln, err := net.Listen("tcp", "127.0.0.1:80")
	if err != nil {
		return !errors.Is(err, syscall.EACCES) // in use is fine: load balancers bind other loopback addresses
	}
	ln.Close()
	return true
}
