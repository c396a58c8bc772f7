package kubeassets

import (
	"fmt"
	"os"
	"path/filepath"
)

// envoyGatewayDir is where `make tools-envoy-gateway` links Envoy
// Gateway's binary and CRDs, relative to the repository root.
const envoyGatewayDir = "bin/envoy-gateway"

// EnvoyGateway is Envoy Gateway's control plane as `make
// tools-envoy-gateway` caches it.
type EnvoyGateway struct {
	// Binary is the envoy-gateway executable.
	Binary string
	// CRDs is the directory of its CRDs (Envoy Gateway's and the Gateway
	// API experimental channel it bundles).
	CRDs string
}

// FindEnvoyGateway locates Envoy Gateway in the repository's
// bin/envoy-gateway, or says to run `make tools-envoy-gateway`.
func FindEnvoyGateway() (EnvoyGateway, error) {
	wd, err := os.Getwd()
	if err != nil {
		return EnvoyGateway{}, fmt.Errorf("locating Envoy Gateway: %w", err)
	}
	root, err := repoRoot(wd)
	if err != nil {
		return EnvoyGateway{}, fmt.Errorf("locating Envoy Gateway: %w", err)
	}
	dir := filepath.Join(root, filepath.FromSlash(envoyGatewayDir))
	eg := EnvoyGateway{Binary: filepath.Join(dir, "envoy-gateway"), CRDs: filepath.Join(dir, "crds")}
	if !executable(eg.Binary) {
		return EnvoyGateway{}, fmt.Errorf("Envoy Gateway not found: %s is not an executable file; run `make tools-envoy-gateway` in the repository root to build it", eg.Binary)
	}
	if info, err := os.Stat(eg.CRDs); err != nil || !info.IsDir() {
		return EnvoyGateway{}, fmt.Errorf("Envoy Gateway's CRDs not found in %s; run `make tools-envoy-gateway` in the repository root", eg.CRDs)
	}
	return eg, nil
}
