#!/usr/bin/env bash
# Makes kube-apiserver, etcd and kubectl available in OUT_DIR (bin/k8s for
# `make tools`), for envtest and the local environment. They come from, in order:
#   1. $KUBEBUILDER_ASSETS when it holds all three (the envtest convention):
#      nothing is built and OUT_DIR is left alone;
#   2. the per-user cache ${XDG_CACHE_HOME:-~/.cache}/keyconform/<versions>/,
#      shared by every clone on the machine (a fresh clone and CI reuse it);
#   3. setup-envtest's download into that cache, where its site is reachable;
#   4. a build from source through the Go module proxy into that cache, for
#      whatever the download did not give.
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
readonly ADVICE="Or set KUBEBUILDER_ASSETS to a directory holding kube-apiserver, etcd and kubectl."
out_dir=${1:?usage: $0 OUT_DIR}
# shellcheck source=scripts/lib/gobuild.sh
source "$(dirname "$0")/lib/gobuild.sh"
cache_dir=$cache_root/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-$platform

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

# setup-envtest, the download tool of controller-runtime's envtest: where
# its download site is reachable, it is faster than a build.
readonly SETUP_ENVTEST=sigs.k8s.io/controller-runtime/tools/setup-envtest@v0.25.1

# download_missing: asks setup-envtest for the pinned Kubernetes release and
# moves each binary it got that reports the pinned version into the cache,
# saying which; what it could not get is built from source afterwards.
download_missing() {
	local out name got=()
	say "trying setup-envtest ($SETUP_ENVTEST) for Kubernetes ${KUBERNETES_VERSION#v} ..."
	if ! out=$(timeout 300 go run "$SETUP_ENVTEST" use "${KUBERNETES_VERSION#v}" --bin-dir "$work/envtest" -p path 2>&1); then
		say "setup-envtest could not download them: $(grep -v -e '^go: downloading' -e '^exit status' <<<"$out" | tail -1)"
		say "building from source instead."
		return 0
	fi
	for name in "${missing[@]}"; do
		if usable "$name" "$out/$name"; then
			cp "$out/$name" "$cache_dir/.$name.tmp" && mv "$cache_dir/.$name.tmp" "$cache_dir/$name"
			got+=("$name")
		fi
	done
	say "setup-envtest downloaded ${got[*]:-nothing usable} (a binary of another version than pinned here is built instead)."
	for name in "${got[@]}"; do
		missing=("${missing[@]/$name/}")
	done
	read -r -a missing <<<"${missing[*]}"
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

	cache_begin "$cache_dir"

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
		work_begin
		download_missing
	fi
	if ((${#missing[@]} > 0)); then
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
					"$cache_dir/kube-apiserver" "takes ~8 minutes" -tags "$KUBE_BUILD_TAGS" -ldflags "$ldflags"
				;;
			kubectl)
				build kubectl "$KUBERNETES_VERSION" "$work/kubernetes" k8s.io/kubernetes/cmd/kubectl \
					"$cache_dir/kubectl" "takes ~1 minute" -tags "$KUBE_BUILD_TAGS" -ldflags "$ldflags"
				;;
			etcd)
				etcd_module "$work/etcd"
				fetch "$work/etcd" "etcd-$ETCD_VERSION" "go.etcd.io/etcd/server/v3/etcdmain@$ETCD_VERSION"
				build etcd "$ETCD_VERSION" "$work/etcd" . "$cache_dir/etcd" "takes under a minute" \
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
