package localenv

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// containerEnv resolves c's environment as the kubelet does: envFrom, then
// env in order (a value may refer to earlier ones as $(NAME)), with the
// downward API's pod fields.
func containerEnv(ctx context.Context, r client.Reader, pod *corev1.Pod, c *corev1.Container) (map[string]string, error) {
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		var data map[string]string
		var err error
		switch {
		case from.ConfigMapRef != nil:
			data, err = configMapData(ctx, r, pod.Namespace, from.ConfigMapRef.Name, from.ConfigMapRef.Optional)
		case from.SecretRef != nil:
			data, err = secretData(ctx, r, pod.Namespace, from.SecretRef.Name, from.SecretRef.Optional)
		}
		if err != nil {
			return nil, fmt.Errorf("container %q envFrom: %w", c.Name, err)
		}
		for k, v := range data {
			env[from.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		v, err := envValue(ctx, r, pod, e, env)
		if err != nil {
			return nil, fmt.Errorf("container %q env %s: %w", c.Name, e.Name, err)
		}
		env[e.Name] = v
	}
	return env, nil
}

func envValue(ctx context.Context, r client.Reader, pod *corev1.Pod, e corev1.EnvVar, env map[string]string) (string, error) {
	from := e.ValueFrom
	if from == nil {
		return expand(e.Value, env), nil
	}
	switch {
	case from.FieldRef != nil:
		return podField(pod, from.FieldRef.FieldPath)
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		data, err := configMapData(ctx, r, pod.Namespace, ref.Name, ref.Optional)
		return keyOf(data, ref.Key, ref.Optional, "ConfigMap "+ref.Name, err)
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		data, err := secretData(ctx, r, pod.Namespace, ref.Name, ref.Optional)
		return keyOf(data, ref.Key, ref.Optional, "Secret "+ref.Name, err)
	}
	return "", fmt.Errorf("valueFrom kind not implemented by the local environment (fieldRef, configMapKeyRef and secretKeyRef are)")
}

// keyOf is one key of a referenced object: a missing key fails the
// container, unless the reference is optional.
func keyOf(data map[string]string, key string, optional *bool, what string, err error) (string, error) {
	if err != nil {
		return "", err
	}
	v, ok := data[key]
	if !ok && (optional == nil || !*optional) && data != nil {
		return "", fmt.Errorf("%s has no key %q", what, key)
	}
	return v, nil
}

// podField is the downward API's fieldRef.
func podField(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	case "status.podIPs", "status.hostIPs":
		return pod.Status.PodIP, nil
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if key, ok := strings.CutPrefix(path, prefix+"['"); ok && strings.HasSuffix(key, "']") {
			return m[strings.TrimSuffix(key, "']")], nil
		}
	}
	return "", fmt.Errorf("fieldRef %q is not a downward API field the local environment knows", path)
}

// expand replaces $(NAME) with NAME's value where defined, and $$ with $,
// as Kubernetes expands env values, commands and args; an undefined
// reference is left as written.
func expand(s string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
				name := s[i+2 : i+2+end]
				if v, ok := env[name]; ok {
					b.WriteString(v)
				} else {
					b.WriteString(s[i : i+3+end])
				}
				i += 2 + end
				continue
			}
		}
		b.WriteByte('$')
	}
	return b.String()
}

func configMapData(ctx context.Context, r client.Reader, ns, name string, optional *bool) (map[string]string, error) {
	var cm corev1.ConfigMap
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &cm); err != nil {
		if client.IgnoreNotFound(err) == nil && optional != nil && *optional {
			return nil, nil
		}
		return nil, fmt.Errorf("ConfigMap %s/%s: %w", ns, name, err)
	}
	return cm.Data, nil
}

func secretData(ctx context.Context, r client.Reader, ns, name string, optional *bool) (map[string]string, error) {
	var s corev1.Secret
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		if client.IgnoreNotFound(err) == nil && optional != nil && *optional {
			return nil, nil
		}
		return nil, fmt.Errorf("Secret %s/%s: %w", ns, name, err)
	}
	out := make(map[string]string, len(s.Data))
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out, nil
}
