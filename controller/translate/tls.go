package translate

import (
	"crypto/tls"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Messages built here reach status: they name Secrets and say what is
// wrong with them, never a byte of their data.

// certificate is the certificate chain and private key of one Secret,
// known to form a keypair.
type certificate struct {
	secret     types.NamespacedName
	chain, key []byte
}

// parsedCertificate is what reading one Secret as a certificate gave.
type parsedCertificate struct {
	cert *certificate
	err  error
}

// terminateProblem says why an HTTPS listener's tls settings cannot
// terminate TLS, "" when they can. Certificate references are checked
// apart (listenerCertificates): a reference that does not resolve leaves
// the listener accepted, with ResolvedRefs=False.
func terminateProblem(cfg *gwv1.ListenerTLSConfig) string {
	if cfg != nil && cfg.Mode != nil && *cfg.Mode != gwv1.TLSModeTerminate {
		// The CRD refuses this too; a Gateway stored before that rule, or
		// built by hand, still must not be served half right.
		return fmt.Sprintf("tls.mode %s is invalid for protocol HTTPS, which terminates TLS: "+
			"use mode Terminate (passing TLS through needs protocol TLS and TLSRoutes, which this controller does not serve)", *cfg.Mode)
	}
	return ""
}

// listenerCertificates resolves the certificateRefs of an HTTPS listener of
// the Gateway gw. A listener is programmed only when every reference
// resolves, so any problem is returned, with the ResolvedRefs reason of the
// first: a reference to another namespace without a ReferenceGrant is
// RefNotPermitted whatever it names, anything else InvalidCertificateRef.
func (ix *index) listenerCertificates(gw types.NamespacedName, cfg *gwv1.ListenerTLSConfig) ([]*certificate, problems) {
	var (
		certs []*certificate
		bad   problems
	)
	if cfg == nil || len(cfg.CertificateRefs) == 0 {
		bad.add(string(gwv1.ListenerReasonInvalidCertificateRef),
			"an HTTPS listener needs tls.certificateRefs naming a kubernetes.io/tls Secret")
		return nil, bad
	}
	from := referrer{group: gatewayGroup, kind: kindGateway, namespace: gw.Namespace}
	for i, ref := range cfg.CertificateRefs {
		group, kind, ns := coreGroup, kindSecret, gw.Namespace
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		key := keyOf(ns, string(ref.Name))
		at := fmt.Sprintf("tls.certificateRefs[%d]", i)
		switch {
		case !ix.referenceGranted(from, group, kind, key):
			bad.add(string(gwv1.ListenerReasonRefNotPermitted),
				fmt.Sprintf("%s: %s %s is in another namespace and no ReferenceGrant in namespace %s allows Gateways from namespace %s to reference it",
					at, describeGroupKind(group, kind), key, ns, gw.Namespace))
		case group != coreGroup || kind != kindSecret:
			bad.add(string(gwv1.ListenerReasonInvalidCertificateRef),
				fmt.Sprintf("%s: %s %s is not supported: certificates come from core Secrets only", at, describeGroupKind(group, kind), key))
		case ix.secrets[key] == nil:
			bad.add(string(gwv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf("%s: Secret %s not found", at, key))
		default:
			parsed := ix.certificateOf(ix.secrets[key])
			switch {
			case parsed.err != nil:
				bad.add(string(gwv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf("%s: Secret %s: %v", at, key, parsed.err))
			case !slices.ContainsFunc(certs, func(c *certificate) bool { return c.secret == key }):
				certs = append(certs, parsed.cert)
			}
		}
	}
	if !bad.empty() {
		return nil, bad
	}
	return certs, bad
}

// certificateOf reads a Secret's tls.crt and tls.key, once per translation
// however many listeners name the Secret. The Secret's type is not
// checked: Gateway API's core support is type kubernetes.io/tls, but an
// Opaque Secret holding the same two entries serves as well, and what
// matters to the data plane is that the entries form a keypair, which
// crypto/tls checks as a TLS server would load them.
func (ix *index) certificateOf(s *corev1.Secret) parsedCertificate {
	key := keyOf(s.Namespace, s.Name)
	if parsed, ok := ix.certificates[key]; ok {
		return parsed
	}
	parsed := parseCertificate(key, secretValue(s, corev1.TLSCertKey), secretValue(s, corev1.TLSPrivateKeyKey))
	ix.certificates[key] = parsed
	return parsed
}

// parseCertificate checks a certificate chain and private key. Errors say
// which entry is wrong; crypto/tls's own errors describe the PEM blocks and
// keys they found, not their content.
func parseCertificate(secret types.NamespacedName, chain, key []byte) parsedCertificate {
	switch {
	case len(chain) == 0 && len(key) == 0:
		return parsedCertificate{err: fmt.Errorf("has no %s and no %s entry", corev1.TLSCertKey, corev1.TLSPrivateKeyKey)}
	case len(chain) == 0:
		return parsedCertificate{err: fmt.Errorf("has no %s entry", corev1.TLSCertKey)}
	case len(key) == 0:
		return parsedCertificate{err: fmt.Errorf("has no %s entry", corev1.TLSPrivateKeyKey)}
	}
	if _, err := tls.X509KeyPair(chain, key); err != nil {
		return parsedCertificate{err: fmt.Errorf("%s and %s are not a PEM certificate chain and its private key: %w",
			corev1.TLSCertKey, corev1.TLSPrivateKeyKey, err)}
	}
	return parsedCertificate{cert: &certificate{secret: secret, chain: chain, key: key}}
}

// secretValue is one entry of a Secret as the API server stores it:
// stringData, which a manifest may use, folded over data.
func secretValue(s *corev1.Secret, entry string) []byte {
	if v, ok := s.StringData[entry]; ok {
		return []byte(v)
	}
	return s.Data[entry]
}
