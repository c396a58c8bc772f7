package localenv

import (
	"encoding/json"
	"errors"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodStatus(t *testing.T) {
	started := metav1.NewTime(time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC))
	now := metav1.NewTime(started.Add(time.Second))
	base := func() *runningPod {
		return &runningPod{pod: pod{IP: netip.MustParseAddr("10.244.0.9")}, started: started,
			specs: []corev1.Container{{Name: "envoy", Image: "envoyproxy/envoy:v1"}}}
	}
	for _, tc := range []struct {
		name       string
		edit       func(*runningPod)
		phase      corev1.PodPhase
		ready      bool
		terminated bool
		reason     any
	}{
		{"starting", func(*runningPod) {}, corev1.PodRunning, false, false, nil},
		{"ready", func(rp *runningPod) { rp.readyNow = true }, corev1.PodRunning, true, false, nil},
		{"failed", func(rp *runningPod) { rp.readyNow, rp.failed = true, errors.New("no bootstrap") }, corev1.PodFailed, false, true, "StartError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp := base()
			tc.edit(rp)
			st := podStatus(rp, now)
			if st.Phase != tc.phase || st.PodIP != "10.244.0.9" || !st.StartTime.Equal(&started) {
				t.Errorf("phase %s, IP %s, start %v", st.Phase, st.PodIP, st.StartTime)
			}
			for _, c := range st.Conditions {
				if c.Type == corev1.PodReady && (c.Status == corev1.ConditionTrue) != tc.ready {
					t.Errorf("Ready=%s, want ready %v", c.Status, tc.ready)
				}
			}
			if len(st.ContainerStatuses) != 1 || st.ContainerStatuses[0].Ready != tc.ready ||
				(st.ContainerStatuses[0].State.Terminated != nil) != tc.terminated {
				t.Errorf("container statuses %+v", st.ContainerStatuses)
			}
			// The patch clears a reason an earlier status had unless this
			// one has its own.
			data, err := statusPatch(st).Data(nil)
			if err != nil {
				t.Fatal(err)
			}
			var patch struct{ Status map[string]any }
			if err := json.Unmarshal(data, &patch); err != nil {
				t.Fatal(err)
			}
			if got, ok := patch.Status["reason"]; !ok || got != tc.reason {
				t.Errorf("patch reason %v (present %v), want %v", got, ok, tc.reason)
			}
		})
	}
}
