package localenv

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// podFS is what a container sees of its volumes: each mount's files, read
// from the ConfigMaps and Secrets when the container starts, as the kubelet
// writes them. Envoy reads its bootstrap and certificates through it.
type podFS struct {
	mounts []mountedVolume // longest mount path first
}

type mountedVolume struct {
	path  string            // absolute, cleaned
	files map[string][]byte // relative path -> content
}

// newPodFS materialises the volumes c mounts. A volume kind the
// environment cannot fill is an error naming it.
func newPodFS(ctx context.Context, r client.Reader, pod *corev1.Pod, c *corev1.Container) (*podFS, error) {
	vols := map[string]*corev1.Volume{}
	for i := range pod.Spec.Volumes {
		vols[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	out := &podFS{}
	for _, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			return nil, fmt.Errorf("container %q mounts volume %q, which the pod does not define", c.Name, m.Name)
		}
		files, err := volumeFiles(ctx, r, pod.Namespace, v)
		if err != nil {
			return nil, fmt.Errorf("volume %q: %w", m.Name, err)
		}
		if m.SubPath != "" {
			files = subTree(files, m.SubPath)
		}
		out.mounts = append(out.mounts, mountedVolume{path: path.Clean(m.MountPath), files: files})
	}
	sort.SliceStable(out.mounts, func(a, b int) bool { return len(out.mounts[a].path) > len(out.mounts[b].path) })
	return out, nil
}

// read returns the file at an absolute path inside the container.
func (f *podFS) read(name string) ([]byte, error) {
	name = path.Clean(name)
	for _, m := range f.mounts {
		rel, ok := strings.CutPrefix(name, m.path+"/")
		if name == m.path {
			rel, ok = "", true // a file mounted by subPath
		}
		if !ok {
			continue
		}
		if b, ok := m.files[rel]; ok {
			return b, nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w: no volume is mounted there", fs.ErrNotExist)}
}

func volumeFiles(ctx context.Context, r client.Reader, namespace string, v *corev1.Volume) (map[string][]byte, error) {
	files := map[string][]byte{}
	switch {
	case v.ConfigMap != nil:
		return files, addConfigMap(ctx, r, namespace, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional, files)
	case v.Secret != nil:
		return files, addSecret(ctx, r, namespace, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional, files)
	case v.Projected != nil:
		for i, src := range v.Projected.Sources {
			var err error
			switch {
			case src.ConfigMap != nil:
				err = addConfigMap(ctx, r, namespace, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, files)
			case src.Secret != nil:
				err = addSecret(ctx, r, namespace, src.Secret.Name, src.Secret.Items, src.Secret.Optional, files)
			case src.ServiceAccountToken != nil:
				// Envoy never reads a token; the file exists but is empty.
				files[src.ServiceAccountToken.Path] = nil
			default:
				err = fmt.Errorf("projected source %d: only configMap, secret and serviceAccountToken are implemented by the local environment", i)
			}
			if err != nil {
				return nil, err
			}
		}
		return files, nil
	case v.EmptyDir != nil:
		return files, nil
	}
	return nil, fmt.Errorf("volume kind not implemented by the local environment (configMap, secret, projected and emptyDir are)")
}

func addConfigMap(ctx context.Context, r client.Reader, ns, name string, items []corev1.KeyToPath, optional *bool, files map[string][]byte) error {
	var cm corev1.ConfigMap
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &cm); err != nil {
		if client.IgnoreNotFound(err) == nil && optional != nil && *optional {
			return nil
		}
		return fmt.Errorf("ConfigMap %s/%s: %w", ns, name, err)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return project(data, items, files, "ConfigMap "+ns+"/"+name)
}

func addSecret(ctx context.Context, r client.Reader, ns, name string, items []corev1.KeyToPath, optional *bool, files map[string][]byte) error {
	var s corev1.Secret
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		if client.IgnoreNotFound(err) == nil && optional != nil && *optional {
			return nil
		}
		return fmt.Errorf("Secret %s/%s: %w", ns, name, err)
	}
	return project(s.Data, items, files, "Secret "+ns+"/"+name)
}

// project writes data's keys as files, or only items (key -> path) when
// given, as the kubelet does.
func project(data map[string][]byte, items []corev1.KeyToPath, files map[string][]byte, what string) error {
	if len(items) == 0 {
		for k, v := range data {
			files[k] = v
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return fmt.Errorf("%s has no key %q", what, it.Key)
		}
		files[path.Clean(it.Path)] = v
	}
	return nil
}

func subTree(files map[string][]byte, sub string) map[string][]byte {
	out := map[string][]byte{}
	sub = path.Clean(sub)
	for k, v := range files {
		if k == sub {
			out[""] = v
		} else if rel, ok := strings.CutPrefix(k, sub+"/"); ok {
			out[rel] = v
		}
	}
	return out
}
