#!/usr/bin/env bash
# Makes Envoy Gateway's control plane available in OUT_DIR (bin/envoy-gateway
# for `make tools`): the `envoy-gateway` binary built from its Go module at
# the pinned version through the Go module proxy, and its CRDs (Envoy
# Gateway's own and the Gateway API experimental channel it bundles) taken
# from the same module's Helm chart, with the chart's template lines
# removed. Nothing is copied from Envoy Gateway into this repository. Both
# land in the per-user cache ${XDG_CACHE_HOME:-~/.cache}/keyconform/ by an
# atomic rename, shared by every clone; OUT_DIR gets symlinks.
set -euo pipefail

readonly EG_MODULE=github.com/envoyproxy/gateway
readonly EG_VERSION=v1.9.1

readonly PROG=envoy-gateway
readonly ADVICE="Envoy Gateway is needed only for IMPL=envoy-gateway; the rest of the project works without it."
out_dir=${1:?usage: $0 OUT_DIR}
# shellcheck source=scripts/lib/gobuild.sh
source "$(dirname "$0")/lib/gobuild.sh"
cache_dir=$cache_root/envoy-gateway-$EG_VERSION-$platform

# usable NAME PATH: `envoy-gateway version` reports the pinned version.
usable() {
	local out
	[[ -f $2 && -x $2 ]] || return 1
	out=$("$2" version 2>&1) && [[ $out == *"ENVOY_GATEWAY_VERSION: $EG_VERSION"* ]]
}

# crds_ready DIR: the CRDs are there, Envoy Gateway's and Gateway API's.
crds_ready() {
	compgen -G "$1/gateway.envoyproxy.io_*.yaml" >/dev/null && [[ -s $1/gateway-api-experimental.yaml ]]
}

# extract_crds MODULE_DIR DEST: the chart's CRD templates as plain YAML.
# Each is plain YAML wrapped in `{{- if ... }}` / `{{- end }}` lines; any
# other template expression means the recipe needs updating.
extract_crds() {
	local chart=$1/charts/gateway-crds-helm/templates f
	[[ -d $chart/generated && -f $chart/experimental-gatewayapi-crds.yaml ]] ||
		die "$EG_MODULE@$EG_VERSION has no CRD chart at $chart; the recipe in $0 needs updating."
	mkdir -p "$2"
	for f in "$chart"/generated/*.yaml "$chart/experimental-gatewayapi-crds.yaml"; do
		local dest=$2/$(basename "$f")
		[[ $f == */experimental-gatewayapi-crds.yaml ]] && dest=$2/gateway-api-experimental.yaml
		grep -v '^{{-\? *\(if \|end\)' "$f" >"$dest"
		if grep -q '{{' "$dest"; then
			die "$f holds template expressions besides its if/end lines; the recipe in $0 needs updating."
		fi
	done
}

main() {
	cache_begin "$cache_dir"
	if ! usable envoy-gateway "$cache_dir/envoy-gateway" || ! crds_ready "$cache_dir/crds"; then
		work_begin
		local begin=$SECONDS dir=$work/envoy-gateway commit
		mkdir -p "$dir"
		printf 'module keyconform.invalid/build/envoy-gateway\n\ngo 1.26.0\n\nrequire %s %s\n' "$EG_MODULE" "$EG_VERSION" >"$dir/go.mod"
		fetch "$dir" "envoy-gateway-$EG_VERSION" "$EG_MODULE/cmd/envoy-gateway@$EG_VERSION"
		commit=$(module_field "$EG_MODULE@$EG_VERSION" '{{with .Origin}}{{.Hash}}{{end}}')
		rm -rf "$cache_dir/crds" "$work/crds"
		extract_crds "$(go_scratch "$dir" list -m -f '{{.Dir}}' "$EG_MODULE")" "$work/crds"
		mv "$work/crds" "$cache_dir/crds"
		if ! usable envoy-gateway "$cache_dir/envoy-gateway"; then
			local v=$EG_MODULE/internal/cmd/version
			build envoy-gateway "$EG_VERSION" "$dir" "$EG_MODULE/cmd/envoy-gateway" "$cache_dir/envoy-gateway" \
				"takes ~5-7 minutes" -ldflags "-s -w -X $v.envoyGatewayVersion=$EG_VERSION -X $v.gitCommitID=${commit:-unknown}"
		fi
		say "Envoy Gateway $EG_VERSION built in $(elapsed $((SECONDS - begin))); cached in $cache_dir"
	fi
	mkdir -p "$out_dir"
	ln -sfn "$cache_dir/envoy-gateway" "$out_dir/envoy-gateway"
	ln -sfn "$cache_dir/crds" "$out_dir/crds"
	say "envoy-gateway $EG_VERSION and its CRDs ready in $out_dir (linked from $cache_dir)"
}

main
