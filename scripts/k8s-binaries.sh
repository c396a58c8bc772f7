#!/usr/bin/env bash
# Makes kube-apiserver, etcd and kubectl available in OUT_DIR (bin/k8s for
# `make tools`), for envtest and the local environment. They come from, in order:
#   1. $KUBEBUILDER_ASSETS when it holds all three (the envtest convention):
#      nothing is built and OUT_DIR is left alone;
#   2. the per-user cache ${XDG_CACHE_HOME:-~/.cache}/keyconform/<versions>/,
#      shared by every clone on the machine (a fresh clone and CI reuse it);
#   3. a build from source through the Go module proxy into that cache.
# OUT_DIR gets symlinks into the cache. A cached binary is trusted only if its
# version command runs and prints the expected version, and a build lands in
# the cache by an atomic rename, so an interrupted build is never picked up.
set -euo pipefail

readonly KUBERNETES_VERSION=v1.37.2
# Kubernetes publishes its staging modules (k8s.io/api, ...) as v0.<minor>.<patch>.
readonly STAGING_VERSION=v0.${KUBERNETES_VERSION#v1.}
readonly ETCD_VERSION=v3.6.16
readonly BINARIES=(etcd kube-apiserver kubectl)
# The tags Kubernetes' own release builds use (hack/lib/golang.sh).
readonly KUBE_BUILD_TAGS=selinux,notest,grpcnotrace

readonly PROG=k8s-binaries
out_dir=${1:?usage: $0 OUT_DIR}
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/keyconform
platform=$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m)
cache_dir=$cache_root/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-$platform
log_dir=$cache_root/logs
work=""

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
	printf '%s: error: %s\n' "$PROG" "$1" >&2
	shift
	local line
	for line in "$@"; do printf '  %s\n' "$line" >&2; done
	exit 1
}

cleanup() { if [[ -n $work ]]; then rm -rf "$work"; fi; }
trap cleanup EXIT
trap 'printf "\n"; say "interrupted"; exit 130' INT TERM

elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# lacking DIR: the binaries DIR does not hold as executable files.
lacking() {
	local name
	for name in "${BINARIES[@]}"; do
		[[ -f $1/$name && -x $1/$name ]] || printf '%s ' "$name"
	done
}

# usable NAME PATH: the binary runs and reports the version this script pins.
usable() {
	local out
	[[ -f $2 && -x $2 ]] || return 1
	case $1 in
	kube-apiserver) out=$("$2" --version 2>&1) && [[ $out == *"Kubernetes $KUBERNETES_VERSION" ]] ;;
	kubectl) out=$("$2" version --client 2>&1) && [[ $out == *"Client Version: $KUBERNETES_VERSION"* ]] ;;
	etcd) out=$("$2" --version 2>&1) && [[ $out == *"etcd Version: ${ETCD_VERSION#v}"* ]] ;;
	*) return 1 ;;
	esac
}

# go_scratch DIR ARGS...: runs the go command in a scratch module, building
# for this machine with no cgo, whatever the caller's environment says.
go_scratch() {
	local dir=$1
	shift
	env -u GOOS -u GOARCH GOWORK=off GOFLAGS='-mod=mod -buildvcs=false' CGO_ENABLED=0 go -C "$dir" "$@"
}

require_go() {
	command -v go >/dev/null 2>&1 || die "go is not on PATH." \
		"Install Go 1.26 or newer and run 'make tools' again," \
		"or set KUBEBUILDER_ASSETS to a directory holding kube-apiserver, etcd and kubectl."
}

# module_field MODULE@VERSION TEMPLATE: a field of a module from the module
# proxy (or the module cache); fails with advice when the proxy is unreachable.
module_field() {
	local out
	if ! out=$(cd "$work" && GOWORK=off GOFLAGS="" go list -m -f "$2" "$1" 2>&1); then
		die "cannot fetch $1 through the Go module proxy (GOPROXY=$(go env GOPROXY))." \
			"go said: $out" \
			"Check network access to the module proxy (or GOPROXY / GOFLAGS), then run 'make tools' again," \
			"or set KUBEBUILDER_ASSETS to a directory holding kube-apiserver, etcd and kubectl."
	fi
	printf '%s\n' "$out"
}

# kubernetes_module DIR: a scratch module requiring k8s.io/kubernetes, whose
# go.mod replaces every staging module with `./staging/src/...`; that only
# works in a Kubernetes checkout, so point each at its published module.
kubernetes_module() {
	local gomod
	gomod=$(module_field "k8s.io/kubernetes@$KUBERNETES_VERSION" '{{.GoMod}}')
	mkdir -p "$1"
	{
		printf 'module keyconform.invalid/build/kubernetes\n\ngo 1.26.0\n\n'
		printf 'require k8s.io/kubernetes %s\n\nreplace (\n' "$KUBERNETES_VERSION"
		awk -v v="$STAGING_VERSION" '$2 == "=>" && $3 ~ /^\.\/staging\/src\// { printf "\t%s => %s %s\n", $1, $1, v }' "$gomod"
		printf ')\n'
	} >"$1/go.mod"
	grep -q ' => k8s.io/api ' "$1/go.mod" ||
		die "found no staging replace directives in $gomod; the recipe in $0 needs updating for $KUBERNETES_VERSION."
}

# etcd_module DIR: a scratch module with the few lines of etcd's own main.
etcd_module() {
	mkdir -p "$1"
	printf 'module keyconform.invalid/build/etcd\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$1/go.mod"
	cat >"$1/main.go" <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
}

# fetch DIR LABEL PACKAGE@VERSION...: resolves the scratch module's requirements.
fetch() {
	local dir=$1 label=$2 log
	shift 2
	log=$log_dir/$label.fetch.log
	say "fetching the Go modules for $label ..."
	if ! go_scratch "$dir" get "$@" >"$log" 2>&1; then
		die "fetching the Go modules for $label failed (GOPROXY=$(go env GOPROXY)); last lines:" \
			"$(tail -n 15 "$log")" \
			"Full log: $log" \
			"Check network access to the module proxy (or GOPROXY / GOFLAGS), then run 'make tools' again," \
			"or set KUBEBUILDER_ASSETS to a directory holding kube-apiserver, etcd and kubectl."
	fi
}

# progress LOG TOTAL: copies `go build -v` output (a line per compiled
# package) into LOG and shows a count on fd 3: a line redrawn every second on
# a terminal, a line every 30 seconds otherwise (CI logs).
progress() {
	local line n=0 start=$SECONDS next=30 now rc
	while :; do
		if IFS= read -r -t 1 line; then
			printf '%s\n' "$line"
			n=$((n + 1))
		else
			rc=$?
			((rc > 128)) || break # not a timeout: end of output
		fi
		now=$((SECONDS - start))
		if [[ -t 3 ]]; then
			printf '\r  %s  %d/%d packages compiled ' "$(elapsed "$now")" "$n" "$2" >&3
		elif ((now >= next)); then
			printf '  %s  %d/%d packages compiled\n' "$(elapsed "$now")" "$n" "$2" >&3
			next=$((next + 30))
		fi
	done >"$1"
	if [[ -t 3 ]]; then printf '\n' >&3; fi
}

# build NAME VERSION DIR PACKAGE NOTE GO-BUILD-FLAGS...: builds one binary,
# checks it, and renames it into the cache.
build() {
	local name=$1 version=$2 dir=$3 pkg=$4 note=$5
	shift 5
	local log=$log_dir/$name-$version.log tmp=$work/out/$name total start
	total=$(go_scratch "$dir" list -deps "$pkg" | wc -l | tr -d ' ')
	say "building $name $version from source ($note the first time) ..."
	start=$SECONDS
	# In the foreground, so Ctrl-C reaches the go command too.
	if ! go_scratch "$dir" build -v -trimpath "$@" -o "$tmp" "$pkg" 2>&1 | progress "$log" "$total" 3>&1; then
		die "building $name $version failed after $(elapsed $((SECONDS - start))); last lines:" \
			"$(tail -n 25 "$log")" \
			"Full log: $log" \
			"Run 'make tools' again (finished packages are reused from the Go build cache)." \
			"If it keeps failing, set KUBEBUILDER_ASSETS to a directory holding kube-apiserver, etcd and kubectl."
	fi
	usable "$name" "$tmp" ||
		die "the freshly built $name does not report version $version; see $log."
	mv -f "$tmp" "$cache_dir/$name"
	say "built $name $version in $(elapsed $((SECONDS - start)))"
}

# kube_ldflags: linker flags stamping the version as Kubernetes' release
# builds do (hack/lib/version.sh), so `kube-apiserver --version` tells it.
kube_ldflags() {
	local date major minor pkg flags="-s -w"
	date=$(module_field "k8s.io/kubernetes@$KUBERNETES_VERSION" '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}')
	major=${KUBERNETES_VERSION#v}
	minor=${major#*.}
	minor=${minor%%.*}
	major=${major%%.*}
	for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
		flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.buildDate=$date"
	done
	printf '%s\n' "$flags"
}

main() {
	local name missing=()
	if [[ -n ${KUBEBUILDER_ASSETS:-} ]]; then
		local lack
		lack=$(lacking "$KUBEBUILDER_ASSETS")
		if [[ -z $lack ]]; then
			say "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS (${BINARIES[*]}); nothing to build."
			return
		fi
		lack=${lack% }
		say "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks ${lack// /, }; using $out_dir instead."
	fi

	mkdir -p "$cache_dir" "$log_dir"
	# One build at a time per machine: a second `make tools` waits, then
	# finds the cache filled.
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$cache_root/.lock"
		if ! flock -n 9; then
			say "another 'make tools' is building; waiting for it ..."
			flock 9
		fi
	fi

	for name in "${BINARIES[@]}"; do
		if ! usable "$name" "$cache_dir/$name"; then
			if [[ -e $cache_dir/$name ]]; then
				say "cached $name in $cache_dir is unusable; rebuilding it."
			fi
			rm -f "$cache_dir/$name"
			missing+=("$name")
		fi
	done

	if ((${#missing[@]} > 0)); then
		require_go
		rm -rf "$cache_root"/.build.* # left by a killed run; we hold the lock
		work=$(mktemp -d "$cache_root/.build.XXXXXX")
		local begin=$SECONDS ldflags=""
		for name in "${missing[@]}"; do
			if [[ $name != etcd && -z $ldflags ]]; then
				kubernetes_module "$work/kubernetes"
				fetch "$work/kubernetes" "kubernetes-$KUBERNETES_VERSION" \
					"k8s.io/kubernetes/cmd/kube-apiserver@$KUBERNETES_VERSION" \
					"k8s.io/kubernetes/cmd/kubectl@$KUBERNETES_VERSION"
				ldflags=$(kube_ldflags)
			fi
			case $name in
			kube-apiserver)
				build kube-apiserver "$KUBERNETES_VERSION" "$work/kubernetes" k8s.io/kubernetes/cmd/kube-apiserver \
					"takes ~8 minutes" -tags "$KUBE_BUILD_TAGS" -ldflags "$ldflags"
				;;
			kubectl)
				build kubectl "$KUBERNETES_VERSION" "$work/kubernetes" k8s.io/kubernetes/cmd/kubectl \
					"takes ~1 minute" -tags "$KUBE_BUILD_TAGS" -ldflags "$ldflags"
				;;
			etcd)
				etcd_module "$work/etcd"
				fetch "$work/etcd" "etcd-$ETCD_VERSION" "go.etcd.io/etcd/server/v3/etcdmain@$ETCD_VERSION"
				build etcd "$ETCD_VERSION" "$work/etcd" . "takes under a minute" \
					-ldflags "-s -w -X 'go.etcd.io/etcd/api/v3/version.GitSHA=not recorded (built from the Go module go.etcd.io/etcd/server/v3@$ETCD_VERSION)'"
				;;
			esac
		done
		say "built ${missing[*]} in $(elapsed $((SECONDS - begin))); cached in $cache_dir"
	fi

	mkdir -p "$out_dir"
	for name in "${BINARIES[@]}"; do
		ln -sfn "$cache_dir/$name" "$out_dir/$name"
	done
	say "etcd $ETCD_VERSION, kube-apiserver $KUBERNETES_VERSION, kubectl $KUBERNETES_VERSION ready in $out_dir (linked from $cache_dir)"
}

main
