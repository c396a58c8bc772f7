# shellcheck shell=bash
# Shared by the scripts that build pinned binaries from the Go module proxy
# into the per-user cache (k8s-binaries.sh, envoy-gateway.sh). The caller
# sets, before sourcing:
#   PROG     the name its messages start with;
#   ADVICE   the last line of every error: what else the user can do;
# and defines `usable NAME PATH` (the binary runs and reports the pinned
# version). It then calls `cache_begin DIR`, builds with `fetch` and
# `build`, and links the results.

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/keyconform
platform=$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m)
log_dir=$cache_root/logs
work=""

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
	printf '%s: error: %s\n' "$PROG" "$1" >&2
	shift
	local line
	for line in "$@" "$ADVICE"; do printf '  %s\n' "$line" >&2; done
	exit 1
}

cleanup() { if [[ -n $work ]]; then rm -rf "$work"; fi; }
trap cleanup EXIT
trap 'printf "\n"; say "interrupted"; exit 130' INT TERM

elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# cache_begin DIR: creates DIR and the logs, and takes the machine-wide
# build lock: a second build waits, then finds the cache filled.
cache_begin() {
	mkdir -p "$1" "$log_dir"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$cache_root/.lock"
		if ! flock -n 9; then
			say "another build of the cached tools is running; waiting for it ..."
			flock 9
		fi
	fi
}

# work_begin: a scratch directory in the cache for one build; ones left by
# a killed run are removed (we hold the lock).
work_begin() {
	require_go
	rm -rf "$cache_root"/.build.*
	work=$(mktemp -d "$cache_root/.build.XXXXXX")
}

# go_scratch DIR ARGS...: runs the go command in a scratch module, building
# for this machine with no cgo, whatever the caller's environment says.
go_scratch() {
	local dir=$1
	shift
	env -u GOOS -u GOARCH GOWORK=off GOFLAGS='-mod=mod -buildvcs=false' CGO_ENABLED=0 go -C "$dir" "$@"
}

require_go() {
	command -v go >/dev/null 2>&1 || die "go is not on PATH." "Install Go 1.26 or newer and run 'make tools' again."
}

# module_field MODULE@VERSION TEMPLATE: a field of a module from the module
# proxy (or the module cache); fails with advice when the proxy is unreachable.
module_field() {
	local out
	if ! out=$(cd "$work" && GOWORK=off GOFLAGS="" go list -m -f "$2" "$1" 2>&1); then
		die "cannot fetch $1 through the Go module proxy (GOPROXY=$(go env GOPROXY))." \
			"go said: $out" \
			"Check network access to the module proxy (or GOPROXY / GOFLAGS), then run 'make tools' again."
	fi
	printf '%s\n' "$out"
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
			"Check network access to the module proxy (or GOPROXY / GOFLAGS), then run 'make tools' again."
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

# build NAME VERSION DIR PACKAGE DEST NOTE GO-BUILD-FLAGS...: builds one
# binary, checks it with `usable`, and renames it to DEST.
build() {
	local name=$1 version=$2 dir=$3 pkg=$4 dest=$5 note=$6
	shift 6
	local log=$log_dir/$name-$version.log tmp=$work/out/$name total start
	total=$(go_scratch "$dir" list -deps "$pkg" | wc -l | tr -d ' ')
	say "building $name $version from source ($note the first time) ..."
	start=$SECONDS
	# In the foreground, so Ctrl-C reaches the go command too.
	if ! go_scratch "$dir" build -v -trimpath "$@" -o "$tmp" "$pkg" 2>&1 | progress "$log" "$total" 3>&1; then
		die "building $name $version failed after $(elapsed $((SECONDS - start))); last lines:" \
			"$(tail -n 25 "$log")" \
			"Full log: $log" \
			"Run 'make tools' again (finished packages are reused from the Go build cache)."
	fi
	usable "$name" "$tmp" ||
		die "the freshly built $name does not report version $version; see $log."
	mv -f "$tmp" "$dest"
	say "built $name $version in $(elapsed $((SECONDS - start)))"
}
