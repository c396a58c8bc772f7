package localenv

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/keyconform/keyconform/internal/testpki"
)

// TestPodWaitsForItsSecret: a Deployment created before the Secret its pod
// mounts (as the Gateway API conformance suite's manifests do) runs once
// the Secret exists, as a kubelet keeps such a pod ContainerCreating; it
// is not left failed.
func TestPodWaitsForItsSecret(t *testing.T) {
	env := startEnv(t, Options{})
	ctx := t.Context()
	c := env.Client()
	labels := map[string]string{"app": "tcp-backend"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "tcp-backend"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: "tcp-backend", Image: "registry.k8s.io/gateway-api/echo-basic:v1.5.1",
						Env: []corev1.EnvVar{{Name: "TCP_ECHO_SERVER", Value: "1"},
							{Name: "TLS_SERVER_CERT", Value: "/etc/secret-volume/crt"}, {Name: "TLS_SERVER_PRIV_KEY", Value: "/etc/secret-volume/key"}},
						VolumeMounts: []corev1.VolumeMount{{Name: "secret-volume", MountPath: "/etc/secret-volume"}},
					}},
					Volumes: []corev1.Volume{{Name: "secret-volume", VolumeSource: corev1.VolumeSource{
						Secret: &corev1.SecretVolumeSource{SecretName: "certificate", Items: []corev1.KeyToPath{
							{Key: "tls.crt", Path: "crt"}, {Key: "tls.key", Path: "key"}}}}}},
				},
			},
		},
	}
	if err := c.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	// No pod runs, and none fails, while the Secret is missing.
	time.Sleep(time.Second)
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels(labels)); err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 0 {
		t.Fatalf("pods %v started without their Secret", pods.Items)
	}
	certPEM, keyPEM := testpki.NewCA(t, "conformance").Issue(t, x509.ExtKeyUsageServerAuth, "tcp.example.com")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "certificate"},
		Data: map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM}}
	if err := c.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		var got appsv1.Deployment
		if err := c.Get(ctx, client.ObjectKeyFromObject(d), &got); err != nil {
			return false, nil
		}
		return got.Status.ReadyReplicas == 1, nil
	})
	if err != nil {
		t.Fatalf("the Deployment did not become ready once its Secret existed: %v", err)
	}
}
