#!/usr/bin/env bash
# Copies the Gateway API standard-channel CRDs from the pinned gateway-api
# module, so fixtures/crds always matches go.mod instead of a hand copy.
set -euo pipefail
dest=${1:?usage: gateway-api-crds.sh DEST_DIR}
src=$(go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api)/config/crd/standard
[ -d "$src" ] || { echo "gateway-api module has no $src; run 'go mod download'" >&2; exit 1; }
mkdir -p "$dest"
rm -f "$dest"/gateway.networking.k8s.io_*.yaml
for f in "$src"/gateway.networking.k8s.io_*.yaml; do
  # The safe-upgrades ValidatingAdmissionPolicy is not a CRD.
  case "$f" in *_vap_*) continue ;; esac
  install -m 0644 "$f" "$dest/"
done
