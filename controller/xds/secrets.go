package xds

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// minKeyFragment is the shortest line of a private key redacted on its
// own: a PEM's last line may be a few characters, which would redact
// unrelated text and give away next to nothing.
const minKeyFragment = 16

// privateKeyValues is what of a certificate's private key must never be
// printed: the whole value and, so that no fragment of it survives a
// message that quotes a part, each of its lines but the PEM armour.
func privateKeyValues(c *tlsv3.TlsCertificate) []string {
	pk := c.GetPrivateKey()
	whole := string(pk.GetInlineBytes()) + pk.GetInlineString()
	if whole == "" {
		return nil
	}
	out := []string{whole}
	for line := range strings.Lines(whole) {
		line = strings.TrimSpace(line)
		if len(line) >= minKeyFragment && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

// checkSecretNames fails when the listeners name an SDS Secret the snapshot
// lacks, or the snapshot holds one no listener names. Consistent() checks
// routes and endpoints but not Secrets; with an ADS cache a missing one
// would leave the listener warming forever, the data plane waiting for a
// response that never comes.
func checkSecretNames(named map[string]struct{}, secrets []types.Resource) error {
	held := make(map[string]struct{}, len(secrets))
	for _, s := range secrets {
		held[cachev3.GetResourceName(s)] = struct{}{}
	}
	var missing, unused []string
	for n := range named {
		if _, ok := held[n]; !ok {
			missing = append(missing, n)
		}
	}
	for n := range held {
		if _, ok := named[n]; !ok {
			unused = append(unused, n)
		}
	}
	slices.Sort(missing)
	slices.Sort(unused)
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("listeners name Secret(s) %s that the configuration lacks", strings.Join(missing, ", ")))
	}
	if len(unused) > 0 {
		errs = append(errs, fmt.Errorf("no listener names Secret(s) %s", strings.Join(unused, ", ")))
	}
	return errors.Join(errs...)
}
