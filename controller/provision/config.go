package provision

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

const (
	// DefaultEnvoyImage is the Envoy the data planes run: the release whose
	// API go-control-plane's envoy module v1.40.0 (go.mod) is generated
	// from. api_key_auth needs 1.33 and its `forwarding` 1.35.
	DefaultEnvoyImage = "docker.io/envoyproxy/envoy:v1.40.0"
	// DefaultXDSAddress is the controller's xDS Service as fixtures/deploy
	// installs it.
	DefaultXDSAddress = "keyconform-controller.kgateway-system.svc.cluster.local:18000"
	// DefaultServiceType is what kgateway provisions: the seed reads the
	// Gateway's address from status.loadBalancer.ingress.
	DefaultServiceType = corev1.ServiceTypeLoadBalancer
)

// Config is what every provisioned data plane shares.
type Config struct {
	// EnvoyImage is the image of the Envoy container.
	EnvoyImage string
	// XDSAddress is host:port of the controller's xDS server as seen from
	// a data plane pod (a Service DNS name in a cluster).
	XDSAddress string
	// ServiceType is the type of each Gateway's Service: LoadBalancer,
	// ClusterIP or NodePort.
	ServiceType corev1.ServiceType
}

// DefaultConfig returns the defaults above.
func DefaultConfig() Config {
	return Config{EnvoyImage: DefaultEnvoyImage, XDSAddress: DefaultXDSAddress, ServiceType: DefaultServiceType}
}

// Validate reports every setting a data plane could not start with.
func (c Config) Validate() error {
	var errs []error
	if err := checkPinnedImage(c.EnvoyImage); err != nil {
		errs = append(errs, err)
	}
	if _, _, err := splitXDSAddress(c.XDSAddress); err != nil {
		errs = append(errs, err)
	}
	switch c.ServiceType {
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
	default:
		errs = append(errs, fmt.Errorf("service type %q: want LoadBalancer, ClusterIP or NodePort", c.ServiceType))
	}
	return errors.Join(errs...)
}

// splitXDSAddress parses host:port with a DNS name or IP and a port from 1
// to 65535, the pieces of the bootstrap's xds_cluster endpoint.
func splitXDSAddress(addr string) (string, uint32, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("xDS address %q: want host:port, e.g. %s: %w", addr, DefaultXDSAddress, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return "", 0, fmt.Errorf("xDS address %q: port %q is not a number from 1 to 65535", addr, portText)
	}
	if net.ParseIP(host) == nil {
		if msgs := validation.IsDNS1123Subdomain(host); len(msgs) > 0 {
			return "", 0, fmt.Errorf("xDS address %q: host %q is neither an IP address nor a DNS name: %s", addr, host, strings.Join(msgs, "; "))
		}
	}
	return host, uint32(port), nil
}

// checkPinnedImage accepts an image reference with a tag or a digest: a
// data plane that changes when someone pushes "latest" is not pinned.
func checkPinnedImage(image string) error {
	name := image[strings.LastIndex(image, "/")+1:]
	switch {
	case image == "" || strings.ContainsFunc(image, unicode.IsSpace):
		return fmt.Errorf("envoy image %q: want an image reference such as %s", image, DefaultEnvoyImage)
	case !strings.ContainsAny(name, ":@"), strings.HasSuffix(name, ":latest"):
		return fmt.Errorf("envoy image %q is not pinned: give a version tag or a digest, e.g. %s", image, DefaultEnvoyImage)
	}
	return nil
}
