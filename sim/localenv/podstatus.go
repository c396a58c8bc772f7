package localenv

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// reportPod writes the pod's status from what runs, and the containers'
// annotations (the admin address), as merge patches: they need neither a
// read of the Pod nor its resource version. Reading and updating cost the
// API server, which shares the cores with everything under test, three
// requests per report, and conflicts when awaitReady reported at the same
// time.
func (k *kubelet) reportPod(ctx context.Context, rp *runningPod) error {
	rp.reporting.Lock()
	defer rp.reporting.Unlock()
	k.mu.Lock()
	status := podStatus(rp, metav1.Now())
	annotations := map[string]string{}
	for _, c := range rp.containers {
		for key, v := range c.annotations() {
			annotations[key] = v
		}
	}
	k.mu.Unlock()
	obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: rp.Namespace, Name: rp.Name}}
	if err := k.client.Status().Patch(ctx, obj, statusPatch(status)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("updating status of pod %s: %w", rp.key(), err)
	}
	if len(annotations) > 0 {
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
		if err != nil {
			return fmt.Errorf("annotating pod %s: %w", rp.key(), err)
		}
		if err := k.client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("annotating pod %s: %w", rp.key(), err)
		}
	}
	return nil
}

// podStatus is the pod as the kubelet would report it: Running with its
// IP, Ready once its containers are, or Failed with the start error.
func podStatus(rp *runningPod, now metav1.Time) corev1.PodStatus {
	ready, failed := rp.isReady(), rp.failed
	cond := func(t corev1.PodConditionType, ok bool) corev1.PodCondition {
		s := corev1.ConditionFalse
		if ok {
			s = corev1.ConditionTrue
		}
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: now}
	}
	st := corev1.PodStatus{
		Phase: corev1.PodRunning,
		PodIP: rp.IP.String(), PodIPs: []corev1.PodIP{{IP: rp.IP.String()}},
		HostIP: nodeIP.String(), HostIPs: []corev1.HostIP{{IP: nodeIP.String()}},
		StartTime: ptr.To(rp.started),
		Conditions: []corev1.PodCondition{
			cond(corev1.PodScheduled, true), cond(corev1.PodInitialized, true),
			cond(corev1.ContainersReady, ready), cond(corev1.PodReady, ready),
		},
	}
	if failed != nil {
		st.Phase, st.Reason, st.Message = corev1.PodFailed, "StartError", failed.Error()
	}
	for _, c := range rp.specs {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Ready: ready, Started: ptr.To(failed == nil)}
		if failed == nil {
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: rp.started}
		} else {
			cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "StartError", Message: failed.Error()}
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	return st
}

// statusPatch replaces the status's fields with those of st; a merge patch
// replaces lists whole, and the reason and message are removed when st has
// none.
type statusPatch corev1.PodStatus

func (p statusPatch) Type() types.PatchType { return types.MergePatchType }

func (p statusPatch) Data(client.Object) ([]byte, error) {
	st := corev1.PodStatus(p)
	fields, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(fields, &m); err != nil {
		return nil, err
	}
	for _, f := range []string{"reason", "message"} {
		if _, ok := m[f]; !ok {
			m[f] = nil
		}
	}
	return json.Marshal(map[string]any{"status": m})
}
