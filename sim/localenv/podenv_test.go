package localenv

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// Kubernetes expands $(VAR) in env values, commands and args
// (k8s.io/kubernetes third_party/forked/golang/expansion): a defined
// variable is replaced, $$ escapes, an undefined reference stays as written.
func TestExpand(t *testing.T) {
	env := map[string]string{"POD": "envoy-abc", "NS": "edge", "EMPTY": ""}
	tests := []struct{ in, want string }{
		{"--service-node $(POD)", "--service-node envoy-abc"},
		{"$(POD).$(NS)", "envoy-abc.edge"},
		{"$(MISSING)", "$(MISSING)"},
		{"$$(POD)", "$(POD)"},
		{"a$$b", "a$b"},
		{"$(EMPTY)x", "x"},
		{"$(unterminated", "$(unterminated"},
		{"cost: 5$", "cost: 5$"},
		{"$", "$"},
	}
	for _, tt := range tests {
		if got := expand(tt.in, env); got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestContainerEnv(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "edge", Name: "web-abc-xyz12", UID: "u1",
			Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"topology.kubernetes.io/zone": "z1"}},
		Spec:   corev1.PodSpec{NodeName: nodeName, ServiceAccountName: "web"},
		Status: corev1.PodStatus{PodIP: "10.244.0.7", HostIP: "10.244.0.1"},
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "edge", Name: "settings"}, Data: map[string]string{"LEVEL": "info"}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "edge", Name: "creds"}, Data: map[string][]byte{"token": []byte("t0k")}}
	r := fake.NewClientBuilder().WithObjects(cm, secret).Build()
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	c := &corev1.Container{
		Name:    "envoy",
		EnvFrom: []corev1.EnvFromSource{{Prefix: "CM_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}},
		Env: []corev1.EnvVar{
			field("POD_NAME", "metadata.name"), field("POD_NAMESPACE", "metadata.namespace"),
			field("POD_IP", "status.podIP"), field("ZONE", "metadata.annotations['topology.kubernetes.io/zone']"),
			field("APP", "metadata.labels['app']"), field("NODE", "spec.nodeName"),
			{Name: "NODE_ID", Value: "$(POD_NAME).$(POD_NAMESPACE)"},
			{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "token"}}},
			{Name: "OPTIONAL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Key: "k", Optional: ptr.To(true)}}},
		},
	}
	got, err := containerEnv(context.Background(), r, pod, c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"CM_LEVEL": "info", "POD_NAME": "web-abc-xyz12", "POD_NAMESPACE": "edge", "POD_IP": "10.244.0.7",
		"ZONE": "z1", "APP": "web", "NODE": nodeName, "NODE_ID": "web-abc-xyz12.edge", "TOKEN": "t0k", "OPTIONAL": "",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}

	for _, tt := range []struct {
		name string
		env  corev1.EnvVar
		want string
	}{
		{"unknown field", field("X", "status.phase"), `fieldRef "status.phase"`},
		{"missing key", corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "nope"}}}, `Secret creds has no key "nope"`},
		{"missing object", corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Key: "k"}}}, "ConfigMap edge/absent"},
		{"resource field", corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}}, "valueFrom kind not implemented"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := containerEnv(context.Background(), r, pod, &corev1.Container{Name: "c", Env: []corev1.EnvVar{tt.env}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "t0k") {
				t.Fatalf("error %q shows a Secret's value", err)
			}
		})
	}
}

func TestPodFS(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "edge", Name: "boot"},
		Data: map[string]string{"envoy.yaml": "node: {}", "xds-certificate.json": "{}"}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "edge", Name: "certs"},
		Data: map[string][]byte{"tls.crt": []byte("CRT"), "tls.key": []byte("KEY")}}
	r := fake.NewClientBuilder().WithObjects(cm, secret).Build()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "edge", Name: "p"}, Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "boot", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "boot"}}}},
		{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "certs",
			Items: []corev1.KeyToPath{{Key: "tls.crt", Path: "server/tls.crt"}}}}},
		{Name: "both", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "boot"}, Items: []corev1.KeyToPath{{Key: "envoy.yaml", Path: "e.yaml"}}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "certs"}}},
		}}}},
		{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc"}}},
	}}}
	c := &corev1.Container{Name: "envoy", VolumeMounts: []corev1.VolumeMount{
		{Name: "boot", MountPath: "/etc/envoy"},
		{Name: "boot", MountPath: "/sds/xds-certificate.json", SubPath: "xds-certificate.json"},
		{Name: "certs", MountPath: "/certs"},
		{Name: "both", MountPath: "/etc/envoy/extra"},
	}}
	fsys, err := newPodFS(context.Background(), r, pod, c)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/etc/envoy/envoy.yaml":     "node: {}",
		"/sds/xds-certificate.json": "{}",
		"/certs/server/tls.crt":     "CRT",
		"/etc/envoy/extra/e.yaml":   "node: {}",
		"/etc/envoy/extra/tls.key":  "KEY",
		"/etc/envoy/./envoy.yaml":   "node: {}",
	} {
		got, err := fsys.read(path)
		if err != nil || string(got) != want {
			t.Errorf("read(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
	for _, missing := range []string{"/certs/tls.key", "/etc/passwd", "/etc/envoy/extra/envoy.yaml"} {
		if _, err := fsys.read(missing); err == nil {
			t.Errorf("read(%s) succeeded; the file is not mounted", missing)
		}
	}
	_, err = newPodFS(context.Background(), r, pod, &corev1.Container{Name: "x", VolumeMounts: []corev1.VolumeMount{{Name: "host", MountPath: "/h"}}})
	if err == nil || !strings.Contains(err.Error(), `volume "host"`) {
		t.Errorf("hostPath volume: error %v, want one naming the volume", err)
	}
}

func TestRepoIn(t *testing.T) {
	envoy := repoIn("envoyproxy/envoy*", "example.com/gateway/envoy")
	for image, want := range map[string]bool{
		"docker.io/envoyproxy/envoy:v1.40.0":          true,
		"envoyproxy/envoy:distroless-v1.39.1":         true,
		"envoyproxy/envoy@sha256:abc":                 true,
		"registry:5000/envoyproxy/envoy:v1":           true,
		"example.com/gateway/envoy:v2":                true,
		"envoyproxy/envoy-dev:latest":                 true,
		"envoyproxy/envoy-distroless:v1.30.0":         true,
		"docker.io/envoyproxy/envoyx:v1":              true,
		"docker.io/other/envoyproxy/gateway:v1":       false,
		"docker.io/envoyproxy/gateway:v1.9.1":         false,
		"docker.io/myenvoyproxy/envoy:v1":             false,
		"docker.io/mccutchen/go-httpbin:v2.26.0":      false,
		"localhost:5000/mirror/envoyproxy/envoy:v1.4": true,
	} {
		if got := envoy(image); got != want {
			t.Errorf("%s: %v, want %v", image, got, want)
		}
	}
}
