package localenv

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/netip"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/json"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/keyconform/keyconform/sim/podnet"
)

// ownedLabel marks the ReplicaSets and Pods the environment runs.
const ownedLabel = "localenv.keyconform.dev/owned"

// nodeName is the one node the environment's pods run on.
const nodeName = "localenv"

// nodeIP is the node's address as the downward API reports it.
var nodeIP = netip.MustParseAddr("10.244.0.1")

// kubelet stands in for the Deployment and ReplicaSet controllers, the
// scheduler, the kubelet and the EndpointSlice controller, for Deployments
// whose every container runs an image it knows (runtimes): each replica is
// a Pod object, owned by a ReplicaSet owned by the Deployment as on a
// cluster, whose containers run in process on a simulated pod IP. A pod
// deleted by anyone is stopped and replaced, as a ReplicaSet would.
type kubelet struct {
	// rejects makes data planes NACK updates (Env.RejectNextRoutes).
	rejects  rejector
	client   client.Client
	reader   client.Reader // the API server, for volumes and env at start
	net      *podnet.Network
	runtimes []imageRuntime
	ips      *ipAllocator
	log      *slog.Logger
	ctx      context.Context // bounds every pod's life
	wake     chan event.GenericEvent

	mu   sync.Mutex
	pods map[types.NamespacedName]*runningPod
	// volumesPending says a pass left a pod waiting for a Secret or
	// ConfigMap it mounts.
	volumesPending atomic.Bool
}

// volumeRetry is how soon a pass is retried when a pod waits for a volume
// source.
const volumeRetry = 200 * time.Millisecond

// errVolumePending is startPod's error for a pod that mounts a Secret or
// ConfigMap that does not exist yet: no Pod object is made, as a kubelet
// keeps such a pod ContainerCreating until it exists.
var errVolumePending = errors.New("a Secret or ConfigMap the pod mounts does not exist yet")

type runningPod struct {
	pod
	uid        types.UID
	deployment types.NamespacedName
	hash       string
	// specs are the containers of the Pod object; started is when it ran.
	specs      []corev1.Container
	started    metav1.Time
	containers []container
	readyNow   bool
	failed     error
	// reporting orders the status writes of the pod: each is computed
	// from its state at the time, and a later one must not be overtaken.
	reporting sync.Mutex
}

var kubeletKey = reconcile.Request{NamespacedName: types.NamespacedName{Name: "kubelet"}}

func (k *kubelet) setupWithManager(mgr ctrl.Manager) error {
	all := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{kubeletKey}
	})
	ours := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetLabels()[managedByLabel] == managedByValue || o.GetLabels()[ownedLabel] == "true"
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("localenv-kubelet").
		// Tests run several environments in one process.
		WithOptions(controller.Options{SkipNameValidation: ptr.To(true)}).
		Watches(&appsv1.Deployment{}, all).
		Watches(&appsv1.ReplicaSet{}, all, builder.WithPredicates(ours)).
		Watches(&corev1.Pod{}, all, builder.WithPredicates(ours)).
		Watches(&corev1.Service{}, all).
		Watches(&discoveryv1.EndpointSlice{}, all, builder.WithPredicates(ours)).
		WatchesRawSource(source.Channel(k.wake, all)).
		Complete(k)
}

// Reconcile converges everything at once: there are few workloads, and a
// global pass cannot miss a Service that selects a Deployment's pods.
func (k *kubelet) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	var deployments appsv1.DeploymentList
	if err := k.client.List(ctx, &deployments); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing deployments: %w", err)
	}
	var podList corev1.PodList
	if err := k.client.List(ctx, &podList, client.MatchingLabels{ownedLabel: "true"}); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing pods: %w", err)
	}
	var errs []error
	wanted := map[types.NamespacedName]*appsv1.Deployment{}
	for i := range deployments.Items {
		d := &deployments.Items[i]
		if d.DeletionTimestamp == nil && k.runnable(d) {
			wanted[client.ObjectKeyFromObject(d)] = d
		}
	}
	errs = append(errs, k.reapPods(ctx, podList.Items, wanted))
	errs = append(errs, k.syncDeployments(ctx, wanted))
	pods := k.podsForEndpoints()
	var services corev1.ServiceList
	if err := k.client.List(ctx, &services); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing services: %w", err)
	}
	errs = append(errs, k.applySlices(ctx, endpointSlices(services.Items, pods)))
	var res reconcile.Result
	if k.volumesPending.Swap(false) {
		res.RequeueAfter = volumeRetry
	}
	return res, errors.Join(errs...)
}

// runnable says every container of the Deployment runs an image the
// environment knows; others are left alone, as a cluster without the
// image would leave them pending.
func (k *kubelet) runnable(d *appsv1.Deployment) bool {
	cs := d.Spec.Template.Spec.Containers
	for i := range cs {
		if k.runtimeFor(cs[i].Image) == nil {
			return false
		}
	}
	return len(cs) > 0
}

func (k *kubelet) runtimeFor(image string) *imageRuntime {
	for i := range k.runtimes {
		if k.runtimes[i].match(image) {
			return &k.runtimes[i]
		}
	}
	return nil
}

// reapPods stops every running pod whose Pod object is gone or being
// deleted, or whose Deployment no longer wants it, and removes Pod objects
// of ours that nothing runs: that is the kubelet confirming a deletion.
func (k *kubelet) reapPods(ctx context.Context, objects []corev1.Pod, wanted map[types.NamespacedName]*appsv1.Deployment) error {
	live := map[types.NamespacedName]*corev1.Pod{}
	for i := range objects {
		live[client.ObjectKeyFromObject(&objects[i])] = &objects[i]
	}
	var errs []error
	k.mu.Lock()
	var stopped []*runningPod
	for key, rp := range k.pods {
		obj := live[key]
		d := wanted[rp.deployment]
		if obj != nil && obj.UID == rp.uid && obj.DeletionTimestamp == nil && d != nil && templateHash(d) == rp.hash {
			continue
		}
		delete(k.pods, key)
		stopped = append(stopped, rp)
	}
	k.mu.Unlock()
	for _, rp := range stopped {
		errs = append(errs, rp.stop())
		k.log.Info("stopped pod", "pod", rp.key().String())
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for key, obj := range live {
		if rp := k.pods[key]; rp != nil && rp.uid == obj.UID {
			continue
		}
		// Grace period 0: nothing runs any more, as the kubelet reports
		// once the containers have stopped.
		if err := k.client.Delete(ctx, obj, client.GracePeriodSeconds(0), client.Preconditions{UID: &obj.UID}); client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
			errs = append(errs, fmt.Errorf("deleting pod %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

// syncParallelism bounds the Deployments one pass syncs at once. Each
// sync is a few API round trips; run one after another they queued every
// pod start behind the others' (a pass took up to 0.6 s with the suites'
// four processes), and pods start in the same pass either way.
const syncParallelism = 8

// syncDeployments syncs each Deployment; they share nothing but the pod
// table and the IP allocator, which lock.
func (k *kubelet) syncDeployments(ctx context.Context, wanted map[types.NamespacedName]*appsv1.Deployment) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	slots := make(chan struct{}, syncParallelism)
	for key, d := range wanted {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			// A namespace being deleted takes no new ReplicaSets or pods;
			// its Deployments are on their way out too.
			if err := k.syncDeployment(ctx, key, d); err != nil && !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// syncDeployment keeps the Deployment's current ReplicaSet with its
// replicas running, removes its older ReplicaSets, and writes statuses.
func (k *kubelet) syncDeployment(ctx context.Context, key types.NamespacedName, d *appsv1.Deployment) error {
	hash := templateHash(d)
	rs, err := k.ensureReplicaSet(ctx, d, hash)
	if err != nil {
		return err
	}
	want := int(ptrOr(d.Spec.Replicas, 1))
	k.mu.Lock()
	var mine []*runningPod
	for _, rp := range k.pods {
		if rp.deployment == key {
			mine = append(mine, rp)
		}
	}
	k.mu.Unlock()
	sort.Slice(mine, func(a, b int) bool { return mine[a].Name < mine[b].Name })
	var errs []error
	for len(mine) > want {
		rp := mine[len(mine)-1]
		mine = mine[:len(mine)-1]
		errs = append(errs, k.deletePod(ctx, rp))
	}
	for len(mine) < want {
		rp, err := k.startPod(ctx, d, rs, hash)
		if errors.Is(err, errVolumePending) {
			// Manifests often create them after the Deployment; the pass
			// is retried shortly.
			k.log.Info("waiting for a volume source of the pod", "deployment", key.String(), "reason", err.Error())
			k.volumesPending.Store(true)
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("deployment %s: %w", key, err))
			break
		}
		mine = append(mine, rp)
	}
	ready := 0
	for _, rp := range mine {
		if rp.isReady() {
			ready++
		}
	}
	errs = append(errs, k.writeStatuses(ctx, d, rs, len(mine), ready))
	return errors.Join(errs...)
}

func (k *kubelet) deletePod(ctx context.Context, rp *runningPod) error {
	k.mu.Lock()
	delete(k.pods, rp.key())
	k.mu.Unlock()
	err := rp.stop()
	obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: rp.Namespace, Name: rp.Name}}
	if derr := k.client.Delete(ctx, obj, client.GracePeriodSeconds(0)); client.IgnoreNotFound(derr) != nil {
		err = errors.Join(err, fmt.Errorf("deleting pod %s: %w", rp.key(), derr))
	}
	return err
}

// templateHash names a pod template as the Deployment controller's
// pod-template-hash does: equal templates, equal hashes.
func templateHash(d *appsv1.Deployment) string {
	b, _ := json.Marshal(d.Spec.Template)
	h := fnv.New32a()
	_, _ = h.Write(b)
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

// ensureReplicaSet creates the ReplicaSet of the Deployment's current
// template and deletes its others (their pods go with them: reapPods
// finds them unwanted).
func (k *kubelet) ensureReplicaSet(ctx context.Context, d *appsv1.Deployment, hash string) (*appsv1.ReplicaSet, error) {
	var list appsv1.ReplicaSetList
	if err := k.client.List(ctx, &list, client.InNamespace(d.Namespace), client.MatchingLabels{ownedLabel: "true"}); err != nil {
		return nil, fmt.Errorf("listing replicasets: %w", err)
	}
	name := d.Name + "-" + hash
	var current *appsv1.ReplicaSet
	for i := range list.Items {
		rs := &list.Items[i]
		if !ownedBy(rs, d.UID) {
			continue
		}
		if rs.Name == name {
			current = rs
			continue
		}
		if err := k.client.Delete(ctx, rs); client.IgnoreNotFound(err) != nil {
			return nil, fmt.Errorf("deleting old replicaset %s/%s: %w", rs.Namespace, rs.Name, err)
		}
	}
	if current != nil {
		return current, nil
	}
	labels := map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: hash, ownedLabel: "true"}
	for k, v := range d.Spec.Template.Labels {
		labels[k] = v
	}
	template := *d.Spec.Template.DeepCopy()
	template.Labels = labels
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: d.Namespace, Name: name, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{controllerRef(d, "apps/v1", "Deployment")},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: d.Spec.Replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: hash}},
			Template: template,
		},
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		rs.Spec.Selector.MatchLabels[k] = v
	}
	if err := k.client.Create(ctx, rs); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating replicaset %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	return rs, nil
}

func controllerRef(owner client.Object, apiVersion, kind string) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: apiVersion, Kind: kind, Name: owner.GetName(), UID: owner.GetUID(),
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

func ownedBy(obj metav1.Object, uid types.UID) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.UID == uid
}

// startPod creates a Pod object for rs and runs its containers. A
// container that fails to start leaves the pod Failed with the reason, and
// it is not retried: the error is in the pod's status and the log.
func (k *kubelet) startPod(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, hash string) (*runningPod, error) {
	// The volumes are read once, before the pod exists; any error but a
	// missing source fails the container when it starts.
	spec := &rs.Spec.Template.Spec
	template := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace}, Spec: *spec}
	files := make([]*podFS, len(spec.Containers))
	volumeErrs := make([]error, len(spec.Containers))
	for i := range spec.Containers {
		files[i], volumeErrs[i] = newPodFS(ctx, k.reader, template, &spec.Containers[i])
		if apierrors.IsNotFound(volumeErrs[i]) {
			return nil, fmt.Errorf("%w: %w", errVolumePending, volumeErrs[i])
		}
	}
	ip, err := k.ips.next()
	if err != nil {
		return nil, err
	}
	obj := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       d.Namespace,
			Name:            rs.Name + "-" + utilrand.String(5),
			Labels:          rs.Spec.Template.Labels,
			Annotations:     rs.Spec.Template.Annotations,
			OwnerReferences: []metav1.OwnerReference{controllerRef(rs, "apps/v1", "ReplicaSet")},
		},
		Spec: *rs.Spec.Template.Spec.DeepCopy(),
	}
	obj.Spec.NodeName = nodeName
	if err := k.client.Create(ctx, obj); err != nil {
		return nil, fmt.Errorf("creating pod: %w", err)
	}
	started := metav1.Now()
	obj.Status = corev1.PodStatus{
		Phase: corev1.PodPending, PodIP: ip.String(), PodIPs: []corev1.PodIP{{IP: ip.String()}},
		HostIP: nodeIP.String(), HostIPs: []corev1.HostIP{{IP: nodeIP.String()}}, StartTime: &started,
	}
	rp := &runningPod{
		pod: pod{
			Namespace: obj.Namespace, Name: obj.Name, Labels: obj.Labels, IP: ip,
			Ports: containerPorts(&obj.Spec),
		},
		uid: obj.UID, deployment: client.ObjectKeyFromObject(d), hash: hash,
		specs: obj.Spec.Containers, started: started,
	}
	netns := k.net.Pod(ip, obj.Namespace)
	for i := range obj.Spec.Containers {
		c := &obj.Spec.Containers[i]
		if volumeErrs[i] != nil {
			rp.failed = fmt.Errorf("container %q: %w", c.Name, volumeErrs[i])
			break
		}
		started, err := k.runtimeFor(c.Image).start(k.ctx, containerStart{pod: obj, c: c, files: files[i], net: netns, reader: k.reader, log: k.log, reject: k.rejects.check})
		if err != nil {
			rp.failed = fmt.Errorf("container %q: %w", c.Name, err)
			break
		}
		rp.containers = append(rp.containers, started)
	}
	k.mu.Lock()
	k.pods[rp.key()] = rp
	k.mu.Unlock()
	if rp.failed != nil {
		k.log.Error("pod failed to start", "pod", rp.key().String(), "error", rp.failed)
		_ = rp.stop()
	} else {
		k.log.Info("started pod", "pod", rp.key().String(), "ip", ip)
		go k.awaitReady(rp)
	}
	return rp, k.reportPod(ctx, rp)
}

// awaitReady marks the pod ready once every container is, and wakes the
// reconciler to report it.
func (k *kubelet) awaitReady(rp *runningPod) {
	for _, c := range rp.containers {
		select {
		case <-c.ready():
		case <-k.ctx.Done():
			return
		}
	}
	k.mu.Lock()
	rp.readyNow = true
	k.mu.Unlock()
	if err := k.reportPod(k.ctx, rp); err != nil {
		k.log.Warn("reporting a pod ready", "pod", rp.key().String(), "error", err)
	}
	obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: rp.Namespace, Name: rp.Name}}
	select {
	case k.wake <- event.GenericEvent{Object: obj}:
	case <-k.ctx.Done():
	}
}

func (rp *runningPod) key() types.NamespacedName {
	return types.NamespacedName{Namespace: rp.Namespace, Name: rp.Name}
}

func (rp *runningPod) isReady() bool { return rp.readyNow && rp.failed == nil }

func (rp *runningPod) stop() error {
	var errs []error
	for _, c := range rp.containers {
		errs = append(errs, c.stop())
	}
	rp.containers = nil
	return errors.Join(errs...)
}

// writeStatuses reports replicas on the ReplicaSet and the Deployment, so
// `kubectl rollout status` and condition waits behave as on a cluster.
func (k *kubelet) writeStatuses(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, running, ready int) error {
	rsStatus := appsv1.ReplicaSetStatus{
		Replicas: int32(running), ReadyReplicas: int32(ready), AvailableReplicas: int32(ready),
		FullyLabeledReplicas: int32(running), ObservedGeneration: rs.Generation,
	}
	var errs []error
	if !reflect.DeepEqual(rs.Status, rsStatus) {
		rs.Status = rsStatus
		if err := k.client.Status().Update(ctx, rs); client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
			errs = append(errs, fmt.Errorf("updating status of replicaset %s/%s: %w", rs.Namespace, rs.Name, err))
		}
	}
	errs = append(errs, k.writeDeploymentStatus(ctx, d, running, ready))
	return errors.Join(errs...)
}

func (k *kubelet) writeDeploymentStatus(ctx context.Context, d *appsv1.Deployment, running, ready int) error {
	status := d.Status.DeepCopy()
	status.ObservedGeneration = d.Generation
	status.Replicas, status.UpdatedReplicas = int32(running), int32(running)
	status.ReadyReplicas, status.AvailableReplicas = int32(ready), int32(ready)
	status.UnavailableReplicas = max(0, ptrOr(d.Spec.Replicas, 1)-int32(ready))
	available := metav1.ConditionFalse
	if int32(ready) >= ptrOr(d.Spec.Replicas, 1) {
		available = metav1.ConditionTrue
	}
	setDeploymentCondition(status, appsv1.DeploymentAvailable, available, "MinimumReplicasAvailable")
	setDeploymentCondition(status, appsv1.DeploymentProgressing, metav1.ConditionTrue, "NewReplicaSetAvailable")
	if reflect.DeepEqual(conditionsWithoutTimes(status.Conditions), conditionsWithoutTimes(d.Status.Conditions)) &&
		status.ObservedGeneration == d.Status.ObservedGeneration && status.ReadyReplicas == d.Status.ReadyReplicas &&
		status.Replicas == d.Status.Replicas && status.UnavailableReplicas == d.Status.UnavailableReplicas {
		return nil
	}
	d.Status = *status
	if err := k.client.Status().Update(ctx, d); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
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

// podsForEndpoints are the pods that run, with their readiness.
func (k *kubelet) podsForEndpoints() []pod {
	k.mu.Lock()
	defer k.mu.Unlock()
	var pods []pod
	for _, rp := range k.pods {
		if rp.failed == nil {
			p := rp.pod
			p.Ready = rp.isReady()
			pods = append(pods, p)
		}
	}
	sort.Slice(pods, func(a, b int) bool { return pods[a].IP.Less(pods[b].IP) })
	return pods
}

// close stops every pod; the environment calls it on shutdown.
func (k *kubelet) close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	var errs []error
	for key, rp := range k.pods {
		errs = append(errs, rp.stop())
		delete(k.pods, key)
	}
	return errors.Join(errs...)
}

// applySlices creates, updates and deletes the environment's EndpointSlices
// to match want.
func (k *kubelet) applySlices(ctx context.Context, want []discoveryv1.EndpointSlice) error {
	var have discoveryv1.EndpointSliceList
	if err := k.client.List(ctx, &have, client.MatchingLabels{managedByLabel: managedByValue}); err != nil {
		return fmt.Errorf("listing endpoint slices: %w", err)
	}
	existing := map[types.NamespacedName]*discoveryv1.EndpointSlice{}
	for i := range have.Items {
		if have.Items[i].Labels[hostServiceLabel] == "" {
			existing[client.ObjectKeyFromObject(&have.Items[i])] = &have.Items[i]
		}
	}
	var errs []error
	for i := range want {
		desired := &want[i]
		key := client.ObjectKeyFromObject(desired)
		current, ok := existing[key]
		delete(existing, key)
		switch {
		case !ok:
			if err := k.client.Create(ctx, desired); err != nil && !apierrors.IsAlreadyExists(err) {
				errs = append(errs, fmt.Errorf("creating endpoint slice %s: %w", key, err))
			}
		case !reflect.DeepEqual(current.Endpoints, desired.Endpoints) || !reflect.DeepEqual(current.Ports, desired.Ports):
			current.Endpoints, current.Ports = desired.Endpoints, desired.Ports
			if err := k.client.Update(ctx, current); err != nil && !apierrors.IsConflict(err) {
				errs = append(errs, fmt.Errorf("updating endpoint slice %s: %w", key, err))
			}
		}
	}
	for key, stale := range existing {
		if err := k.client.Delete(ctx, stale); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("deleting endpoint slice %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

// containerPorts are the ports the pod's containers declare; a go-httpbin
// container that declares none listens on 8080.
func containerPorts(spec *corev1.PodSpec) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, c := range spec.Containers {
		out = append(out, c.Ports...)
	}
	if len(out) == 0 && len(spec.Containers) == 1 && repoIn(httpbinImage)(spec.Containers[0].Image) {
		out = []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}
	}
	return out
}

func ptrOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}
