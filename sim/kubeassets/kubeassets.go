// Package kubeassets locates the kube-apiserver, etcd and kubectl binaries
// that envtest and the local environment run: $KUBEBUILDER_ASSETS when it
// holds all three (the envtest convention), else the repository's bin/k8s,
// which `make tools` fills.
package kubeassets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvVar names the directory envtest users point at their binaries.
const EnvVar = "KUBEBUILDER_ASSETS"

// repoDir is where `make tools` links the binaries, relative to the
// repository root.
const repoDir = "bin/k8s"

// binaries are what a directory must hold to be used.
var binaries = []string{"etcd", "kube-apiserver", "kubectl"}

// Dir returns the absolute path of the directory holding kube-apiserver, etcd
// and kubectl, or an error saying what is missing and to run `make tools`.
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("locating kube-apiserver, etcd and kubectl: %w", err)
	}
	return resolve(os.Getenv(EnvVar), wd)
}

// Binary returns the absolute path of one binary (e.g. "kubectl") in Dir.
func Binary(name string) (string, error) {
	if name == "" || name != filepath.Base(name) {
		return "", fmt.Errorf("binary name %q: want a plain file name such as kubectl", name)
	}
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	if !executable(path) {
		return "", fmt.Errorf("%s is not an executable file: `make tools` provides only %s", path, strings.Join(binaries, ", "))
	}
	return path, nil
}

// resolve is Dir with its inputs explicit: the value of EnvVar and the
// working directory, against which a relative EnvVar is taken.
func resolve(env, wd string) (string, error) {
	var problems []string
	if env != "" {
		if !filepath.IsAbs(env) {
			env = filepath.Join(wd, env)
		}
		missing := lacking(env)
		if len(missing) == 0 {
			return filepath.Clean(env), nil
		}
		problems = append(problems, fmt.Sprintf("%s=%s lacks %s", EnvVar, env, strings.Join(missing, ", ")))
	}
	root, err := repoRoot(wd)
	if err != nil {
		problems = append(problems, err.Error())
	} else {
		dir := filepath.Join(root, filepath.FromSlash(repoDir))
		missing := lacking(dir)
		if len(missing) == 0 {
			return dir, nil
		}
		problems = append(problems, fmt.Sprintf("%s lacks %s", dir, strings.Join(missing, ", ")))
	}
	return "", fmt.Errorf("kube-apiserver, etcd and kubectl not found (%s): run `make tools` in the repository root to build them, or set %s to a directory holding all three",
		strings.Join(problems, "; "), EnvVar)
}

// lacking returns the binaries dir does not hold as executable files.
func lacking(dir string) []string {
	var missing []string
	for _, name := range binaries {
		if !executable(filepath.Join(dir, name)) {
			missing = append(missing, name)
		}
	}
	return missing
}

// executable reports whether path, after symlinks, is a file someone may run.
func executable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0
}

// repoRoot returns the nearest directory at or above wd holding a go.mod.
func repoRoot(wd string) (string, error) {
	for dir := filepath.Clean(wd); ; dir = filepath.Dir(dir) {
		_, err := os.Stat(filepath.Join(dir, "go.mod"))
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("looking for the repository root: %w", err)
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod in %s or above it, so no repository %s", wd, repoDir)
		}
	}
}
