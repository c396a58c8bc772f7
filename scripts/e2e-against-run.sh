#!/usr/bin/env bash
# Runs the suites against the environment `make run` starts, as an
# implementer would in CI: the keyconform-suites program, from a directory
# outside the checkout, on the cluster target with --context and
# --gateway-parameters-ref; the Gateways are reached through their status
# addresses (each Service's own loopback load balancer address), with every
# feature of the reference controller. Reports go to $ARTIFACTS.
# Usage: e2e-against-run.sh LOCALENV_BINARY SUITES_BINARY [SUITE_ARGS...]
set -euo pipefail

readonly PROG=e2e-against-run
localenv=${1:?usage: $0 LOCALENV_BINARY SUITES_BINARY [SUITE_ARGS...]}
suites=$(realpath "${2:?usage: $0 LOCALENV_BINARY SUITES_BINARY [SUITE_ARGS...]}")
shift 2
artifacts=$(realpath -m "${ARTIFACTS:-_artifacts}")

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
context=$(sed -n 's/^current-context: //p' "$kubeconfig")
mkdir -p "$out/elsewhere"
cd "$out/elsewhere"
KUBECONFIG=$kubeconfig ARTIFACTS=$artifacts "$suites" --target=cluster --context="$context" --gateway-class=kgateway \
	--gateway-parameters-ref=gateway.kgateway.dev/GatewayParameters/cluster-ip \
	--supported-features="$features" "$@"
