package kubeassets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// layout builds a tree of real files under root: a key ending in "/" is a
// directory, "->target" a symlink, "+x" an executable file, "" a plain file.
func layout(t *testing.T, root string, entries map[string]string) {
	t.Helper()
	for rel, kind := range entries {
		path := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasSuffix(rel, "/"):
			err = os.MkdirAll(path, 0o755)
		case strings.HasPrefix(kind, "->"):
			err = os.Symlink(filepath.Join(root, filepath.FromSlash(kind[2:])), path)
		case kind == "+x":
			err = os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755)
		default:
			err = os.WriteFile(path, []byte("not a program\n"), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func complete(dir string) map[string]string {
	return map[string]string{dir + "/etcd": "+x", dir + "/kube-apiserver": "+x", dir + "/kubectl": "+x"}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestResolve(t *testing.T) {
	repo := map[string]string{"repo/go.mod": "", "repo/sim/env/": ""}
	tests := []struct {
		name    string
		tree    map[string]string
		env     string // relative to the temp root unless it starts with "rel:"
		wd      string
		want    string   // relative to the temp root; empty when an error is wanted
		wantErr []string // substrings of the error
	}{{
		name: "complete KUBEBUILDER_ASSETS wins over bin/k8s",
		tree: merge(repo, complete("repo/bin/k8s"), complete("assets")),
		env:  "assets", wd: "repo", want: "assets",
	}, {
		name: "relative KUBEBUILDER_ASSETS is taken from the working directory",
		tree: merge(repo, complete("repo/assets")),
		env:  "rel:assets", wd: "repo", want: "repo/assets",
	}, {
		name: "incomplete KUBEBUILDER_ASSETS falls back to bin/k8s",
		tree: merge(repo, complete("repo/bin/k8s"), map[string]string{"assets/etcd": "+x", "assets/kube-apiserver": "+x"}),
		env:  "assets", wd: "repo", want: "repo/bin/k8s",
	}, {
		name: "bin/k8s found from a subdirectory",
		tree: merge(repo, complete("repo/bin/k8s")),
		wd:   "repo/sim/env", want: "repo/bin/k8s",
	}, {
		name: "symlinks into the cache, as make tools leaves them",
		tree: merge(repo, complete("cache/k8s"), map[string]string{
			"repo/bin/k8s/etcd": "->cache/k8s/etcd", "repo/bin/k8s/kube-apiserver": "->cache/k8s/kube-apiserver", "repo/bin/k8s/kubectl": "->cache/k8s/kubectl",
		}),
		wd: "repo/sim", want: "repo/bin/k8s",
	}, {
		name: "nothing built yet",
		tree: repo,
		wd:   "repo/sim/env", wantErr: []string{"bin/k8s lacks etcd, kube-apiserver, kubectl", "run `make tools`"},
	}, {
		name: "a cache wiped under bin/k8s leaves dangling symlinks",
		tree: merge(repo, complete("cache/k8s"), map[string]string{
			"repo/bin/k8s/etcd": "->cache/k8s/etcd", "repo/bin/k8s/kube-apiserver": "->cache/k8s/kube-apiserver", "repo/bin/k8s/kubectl": "->cache/gone/kubectl",
		}),
		wd: "repo", wantErr: []string{"bin/k8s lacks kubectl", "run `make tools`"},
	}, {
		name: "a file that is not executable does not count",
		tree: merge(repo, complete("repo/bin/k8s"), map[string]string{"repo/bin/k8s/kubectl": ""}),
		wd:   "repo", wantErr: []string{"bin/k8s lacks kubectl", "run `make tools`"},
	}, {
		name: "a directory named like a binary does not count",
		tree: merge(repo, map[string]string{"repo/bin/k8s/etcd/": "", "repo/bin/k8s/kube-apiserver": "+x", "repo/bin/k8s/kubectl": "+x"}),
		wd:   "repo", wantErr: []string{"bin/k8s lacks etcd", "run `make tools`"},
	}, {
		name: "both places incomplete: the error names both",
		tree: merge(repo, map[string]string{"assets/kubectl": "+x", "repo/bin/k8s/etcd": "+x"}),
		env:  "assets", wd: "repo", wantErr: []string{"KUBEBUILDER_ASSETS=", "assets lacks etcd, kube-apiserver;", "bin/k8s lacks kube-apiserver, kubectl", "run `make tools`"},
	}, {
		name: "outside any repository",
		tree: map[string]string{"elsewhere/": ""},
		wd:   "elsewhere", wantErr: []string{"no go.mod in", "run `make tools`"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			layout(t, root, tt.tree)
			env := tt.env
			if rel, ok := strings.CutPrefix(env, "rel:"); ok {
				env = rel
			} else if env != "" {
				env = filepath.Join(root, env)
			}
			got, err := resolve(env, filepath.Join(root, tt.wd))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("resolve() = %q, want an error containing %q", got, tt.wantErr)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("resolve() error: %v", err)
			}
			if want := filepath.Join(root, tt.want); got != want {
				t.Errorf("resolve() = %q, want %q", got, want)
			}
		})
	}
}

func TestBinary(t *testing.T) {
	root := t.TempDir()
	layout(t, root, merge(complete("assets"), map[string]string{"assets/notes.txt": ""}))
	t.Setenv(EnvVar, filepath.Join(root, "assets"))
	t.Chdir(root)
	tests := []struct {
		name    string
		want    string // relative to root; empty when an error is wanted
		wantErr string
	}{
		{name: "kubectl", want: "assets/kubectl"},
		{name: "kube-apiserver", want: "assets/kube-apiserver"},
		{name: "kube-scheduler", wantErr: "not an executable file"},
		{name: "notes.txt", wantErr: "not an executable file"},
		{name: "../assets/kubectl", wantErr: "want a plain file name"},
		{name: "", wantErr: "want a plain file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Binary(tt.name)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Binary(%q) = %q, %v; want an error containing %q", tt.name, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Binary(%q) error: %v", tt.name, err)
			}
			if want := filepath.Join(root, tt.want); got != want {
				t.Errorf("Binary(%q) = %q, want %q", tt.name, got, want)
			}
		})
	}
}
