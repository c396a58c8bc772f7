#!/usr/bin/env bash
# Runs the suites' cluster target against the environment `make run` starts,
# as a user would try the local environment as "any cluster": the Gateways
# are reached through their status addresses (each Service's own loopback
# load balancer address), with every feature of the reference controller.
# Usage: e2e-against-run.sh LOCALENV_BINARY [MAKE_ARGS...]
set -euo pipefail

readonly PROG=e2e-against-run
localenv=${1:?usage: $0 LOCALENV_BINARY [MAKE_ARGS...]}
shift

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

out=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -INT "$pid"
		wait "$pid" || true
	fi
	rm -rf "$out"
}
trap cleanup EXIT

# A port of its own, so a `make run` already running is left alone.
"$localenv" --listen-override 8080=127.0.0.1:0 >"$out/stdout" 2>"$out/stderr" &
pid=$!
for _ in $(seq 1 600); do
	grep -q '^ready' "$out/stdout" && break
	kill -0 "$pid" 2>/dev/null || die "the local environment exited before it was ready: $(tail -n 5 "$out/stderr")"
	sleep 0.1
done
grep -q '^ready' "$out/stdout" || die "the local environment was not ready within 60s: $(tail -n 5 "$out/stderr")"
kubeconfig=$(sed -n 's/^export KUBECONFIG=//p' "$out/stdout")

# Every extended feature: the reference controller implements them all.
features=$(grep -o '"APIKeyAuth[A-Za-z]*"' suites/features/features.go | tr -d '"' | sort -u | paste -sd, -)
KUBECONFIG=$kubeconfig make --no-print-directory e2e-cluster GATEWAY_CLASS=kgateway SUPPORTED_FEATURES="$features" "$@"
