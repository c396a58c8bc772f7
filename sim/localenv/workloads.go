package localenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/keyconform/keyconform/sim/podnet"
)

// httpbinImage is the image whose Deployments the environment can run: the
// sample app's go-httpbin, served in process.
const httpbinImage = "mccutchen/go-httpbin"

// backendStarter starts one backend listening on loopback and returns its
// address and a function stopping it.
type backendStarter func() (string, func() error, error)

// workloads stands in for the scheduler, kubelet and EndpointSlice
// controller, for go-httpbin Deployments only: each replica becomes an
// in-process go-httpbin on a loopback port, reachable from the data plane
// through a virtual pod IP on the simulated pod network.
type workloads struct {
	client client.Client
	net    *podnet.Network
	start  backendStarter
	log    *slog.Logger
	ips    *ipAllocator

	mu      sync.Mutex
	running map[types.NamespacedName]*replicaSet
}

type replicaSet struct {
	template corev1.PodTemplateSpec
	pods     []runningPod
}

type runningPod struct {
	pod
	stop func() error
}

var workloadsKey = reconcile.Request{NamespacedName: types.NamespacedName{Name: "workloads"}}

func (w *workloads) setupWithManager(mgr ctrl.Manager) error {
	all := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{workloadsKey}
	})
	ours := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetLabels()[managedByLabel] == managedByValue
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("localenv-workloads").
		// Tests run several environments in one process.
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
		Watches(&appsv1.Deployment{}, all).
		Watches(&corev1.Service{}, all).
		Watches(&discoveryv1.EndpointSlice{}, all, builder.WithPredicates(ours)).
		Complete(w)
}

// Reconcile converges everything at once: there are few workloads, and a
// global pass cannot miss a Service that selects a Deployment's pods.
func (w *workloads) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	var deployments appsv1.DeploymentList
	if err := w.client.List(ctx, &deployments); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing deployments: %w", err)
	}
	pods, err := w.syncPods(deployments.Items)
	if err != nil {
		return reconcile.Result{}, err
	}
	for i := range deployments.Items {
		if err := w.writeDeploymentStatus(ctx, &deployments.Items[i]); err != nil {
			return reconcile.Result{}, err
		}
	}
	var services corev1.ServiceList
	if err := w.client.List(ctx, &services); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing services: %w", err)
	}
	return reconcile.Result{}, w.applySlices(ctx, endpointSlices(services.Items, pods))
}

// syncPods starts and stops simulated pods so that every go-httpbin
// Deployment has its replicas running with its current template, and
// returns all running pods.
func (w *workloads) syncPods(deployments []appsv1.Deployment) ([]pod, error) {
	w.mu.Lock()
	defer w.mu.Unlock()

	wanted := map[types.NamespacedName]*appsv1.Deployment{}
	for i := range deployments {
		d := &deployments[i]
		if d.DeletionTimestamp == nil && runsHTTPBin(d) {
			wanted[client.ObjectKeyFromObject(d)] = d
		}
	}
	var errs []error
	for key, rs := range w.running {
		d, ok := wanted[key]
		if ok && reflect.DeepEqual(d.Spec.Template, rs.template) {
			continue
		}
		errs = append(errs, w.stopPods(rs.pods...))
		delete(w.running, key)
	}
	for key, d := range wanted {
		rs := w.running[key]
		if rs == nil {
			rs = &replicaSet{template: *d.Spec.Template.DeepCopy()}
			w.running[key] = rs
		}
		replicas := int(ptrOr(d.Spec.Replicas, 1))
		for len(rs.pods) > replicas {
			last := rs.pods[len(rs.pods)-1]
			errs = append(errs, w.stopPods(last))
			rs.pods = rs.pods[:len(rs.pods)-1]
		}
		for len(rs.pods) < replicas {
			p, err := w.startPod(d, len(rs.pods))
			if err != nil {
				errs = append(errs, fmt.Errorf("deployment %s: %w", key, err))
				break
			}
			rs.pods = append(rs.pods, p)
		}
	}

	var pods []pod
	for _, rs := range w.running {
		for _, p := range rs.pods {
			pods = append(pods, p.pod)
		}
	}
	sort.Slice(pods, func(a, b int) bool { return pods[a].IP.Less(pods[b].IP) })
	return pods, errors.Join(errs...)
}

func (w *workloads) startPod(d *appsv1.Deployment, index int) (runningPod, error) {
	ip, err := w.ips.next()
	if err != nil {
		return runningPod{}, err
	}
	local, stop, err := w.start()
	if err != nil {
		return runningPod{}, fmt.Errorf("starting go-httpbin: %w", err)
	}
	p := runningPod{
		pod: pod{
			Namespace: d.Namespace,
			Name:      podName(d.Name, index),
			Labels:    d.Spec.Template.Labels,
			IP:        ip,
			Ports:     containerPorts(d),
		},
		stop: stop,
	}
	for _, cp := range p.Ports {
		if err := w.net.Add(netip.AddrPortFrom(ip, uint16(cp.ContainerPort)).String(), local); err != nil {
			return runningPod{}, errors.Join(fmt.Errorf("registering pod %s/%s: %w", p.Namespace, p.Name, err), w.stopPods(p))
		}
	}
	w.log.Info("started simulated pod", "namespace", p.Namespace, "pod", p.Name, "ip", ip, "local", local)
	return p, nil
}

func (w *workloads) stopPods(pods ...runningPod) error {
	var errs []error
	for _, p := range pods {
		for _, cp := range p.Ports {
			w.net.Remove(netip.AddrPortFrom(p.IP, uint16(cp.ContainerPort)).String())
		}
		errs = append(errs, p.stop())
		w.log.Info("stopped simulated pod", "namespace", p.Namespace, "pod", p.Name)
	}
	return errors.Join(errs...)
}

// close stops every simulated pod; the environment calls it on shutdown.
func (w *workloads) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	for key, rs := range w.running {
		errs = append(errs, w.stopPods(rs.pods...))
		delete(w.running, key)
	}
	return errors.Join(errs...)
}

// writeDeploymentStatus reports the simulated replicas as ready and
// available, so `kubectl rollout status` and condition waits behave as on a
// cluster.
func (w *workloads) writeDeploymentStatus(ctx context.Context, d *appsv1.Deployment) error {
	w.mu.Lock()
	ready := int32(0)
	if rs := w.running[client.ObjectKeyFromObject(d)]; rs != nil {
		ready = int32(len(rs.pods))
	}
	w.mu.Unlock()
	if !runsHTTPBin(d) {
		return nil
	}

	status := d.Status.DeepCopy()
	status.ObservedGeneration = d.Generation
	status.Replicas, status.UpdatedReplicas, status.ReadyReplicas, status.AvailableReplicas = ready, ready, ready, ready
	available := metav1.ConditionFalse
	if ready >= ptrOr(d.Spec.Replicas, 1) {
		available = metav1.ConditionTrue
	}
	setDeploymentCondition(status, appsv1.DeploymentAvailable, available, "MinimumReplicasAvailable")
	setDeploymentCondition(status, appsv1.DeploymentProgressing, metav1.ConditionTrue, "NewReplicaSetAvailable")
	if reflect.DeepEqual(conditionsWithoutTimes(status.Conditions), conditionsWithoutTimes(d.Status.Conditions)) &&
		status.ObservedGeneration == d.Status.ObservedGeneration && status.ReadyReplicas == d.Status.ReadyReplicas &&
		status.Replicas == d.Status.Replicas {
		return nil
	}
	d.Status = *status
	if err := w.client.Status().Update(ctx, d); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("updating status of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return nil
}

func setDeploymentCondition(status *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType, s metav1.ConditionStatus, reason string) {
	now := metav1.Now()
	for i := range status.Conditions {
		c := &status.Conditions[i]
		if c.Type != t {
			continue
		}
		if c.Status != corev1.ConditionStatus(s) {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.LastUpdateTime = corev1.ConditionStatus(s), reason, now
		return
	}
	status.Conditions = append(status.Conditions, appsv1.DeploymentCondition{
		Type: t, Status: corev1.ConditionStatus(s), Reason: reason, LastUpdateTime: now, LastTransitionTime: now,
	})
}

func conditionsWithoutTimes(in []appsv1.DeploymentCondition) []appsv1.DeploymentCondition {
	out := make([]appsv1.DeploymentCondition, len(in))
	for i, c := range in {
		c.LastTransitionTime, c.LastUpdateTime = metav1.Time{}, metav1.Time{}
		out[i] = c
	}
	return out
}

// applySlices creates, updates and deletes the environment's EndpointSlices
// to match want.
func (w *workloads) applySlices(ctx context.Context, want []discoveryv1.EndpointSlice) error {
	var have discoveryv1.EndpointSliceList
	if err := w.client.List(ctx, &have, client.MatchingLabels{managedByLabel: managedByValue}); err != nil {
		return fmt.Errorf("listing endpoint slices: %w", err)
	}
	existing := map[types.NamespacedName]*discoveryv1.EndpointSlice{}
	for i := range have.Items {
		existing[client.ObjectKeyFromObject(&have.Items[i])] = &have.Items[i]
	}
	var errs []error
	for i := range want {
		desired := &want[i]
		key := client.ObjectKeyFromObject(desired)
		current, ok := existing[key]
		delete(existing, key)
		switch {
		case !ok:
			if err := w.client.Create(ctx, desired); err != nil && !apierrors.IsAlreadyExists(err) {
				errs = append(errs, fmt.Errorf("creating endpoint slice %s: %w", key, err))
			}
		case !reflect.DeepEqual(current.Endpoints, desired.Endpoints) || !reflect.DeepEqual(current.Ports, desired.Ports):
			current.Endpoints, current.Ports = desired.Endpoints, desired.Ports
			if err := w.client.Update(ctx, current); err != nil && !apierrors.IsConflict(err) {
				errs = append(errs, fmt.Errorf("updating endpoint slice %s: %w", key, err))
			}
		}
	}
	for key, stale := range existing {
		if err := w.client.Delete(ctx, stale); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("deleting endpoint slice %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

func runsHTTPBin(d *appsv1.Deployment) bool {
	cs := d.Spec.Template.Spec.Containers
	return len(cs) == 1 && strings.Contains(cs[0].Image, httpbinImage)
}

// containerPorts are the ports the pod serves; go-httpbin listens on 8080
// unless told otherwise, and every declared port reaches the one listener.
func containerPorts(d *appsv1.Deployment) []corev1.ContainerPort {
	ports := d.Spec.Template.Spec.Containers[0].Ports
	if len(ports) == 0 {
		return []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}
	}
	return ports
}

func ptrOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}
