package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/translate"
)

const (
	// DefaultControllerName is the spec.controllerName of the GatewayClasses
	// this controller serves.
	DefaultControllerName gwv1.GatewayController = "keyconform.dev/controller"
	// DefaultGatewayClassName is the class the seed's manifests use.
	DefaultGatewayClassName = "kgateway"
	// DefaultDebounce is how long the first event of a burst waits for the
	// rest before a translation starts. Measured here (2 cores, envtest;
	// BenchmarkBurstToSnapshot, BenchmarkSecretUpdateToSnapshot): 20
	// Secrets created back to back cost 7-14 translations without a
	// debounce, 3.5-6.6 at 10ms, 1.3-1.5 at 50ms, 1.05 at 100ms, for about
	// the same burst-to-snapshot time; a single Secret update reaches the
	// data plane in 5-8ms without, about 60ms with 50ms.
	DefaultDebounce = 50 * time.Millisecond
)

// AddressSource reports the addresses a Gateway's data plane is reachable
// at; they go into the Gateway's status. The local environment and a kind
// cluster each supply their own.
type AddressSource func(gateway types.NamespacedName) []gwv1.GatewayStatusAddress

// Publisher receives every translation's proxies; *xds.Server is one.
type Publisher interface {
	Publish(ctx context.Context, proxies []translate.Proxy) error
}

// Options configure SetupWithManager. The zero value is usable.
type Options struct {
	// ControllerName selects the GatewayClasses to serve. Default
	// DefaultControllerName.
	ControllerName gwv1.GatewayController
	// GatewayClassName is created at start with ControllerName if absent.
	// Default DefaultGatewayClassName.
	GatewayClassName string
	// Addresses supplies Gateway status addresses; nil means none.
	Addresses AddressSource
	// Logger receives the controller's logs; nil discards them.
	Logger *slog.Logger
	// Debounce delays a translation after the first event of a burst.
	// Zero means DefaultDebounce; negative means no delay.
	Debounce time.Duration
}

// withDefaults returns o with zero fields replaced by their defaults.
func (o Options) withDefaults() Options {
	if o.ControllerName == "" {
		o.ControllerName = DefaultControllerName
	}
	if o.GatewayClassName == "" {
		o.GatewayClassName = DefaultGatewayClassName
	}
	if o.Addresses == nil {
		o.Addresses = func(types.NamespacedName) []gwv1.GatewayStatusAddress { return nil }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultDebounce
	}
	return o
}

// Validate reports every option a Kubernetes API server would reject.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	if err := ValidateControllerName(string(o.ControllerName)); err != nil {
		errs = append(errs, err)
	}
	if msgs := validation.IsDNS1123Subdomain(o.GatewayClassName); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("GatewayClass name %q: %s", o.GatewayClassName, strings.Join(msgs, "; ")))
	}
	return errors.Join(errs...)
}

// controllerNamePattern is the pattern Gateway API's CRDs enforce on
// spec.controllerName (gateway-api v1.6.3, GatewayController).
var controllerNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$`)

// ValidateControllerName checks name as Gateway API checks
// spec.controllerName: "<domain>/<path>", at most 253 characters.
func ValidateControllerName(name string) error {
	if len(name) > 253 || !controllerNamePattern.MatchString(name) {
		return fmt.Errorf("controller name %q: want <lowercase domain>/<path> of at most 253 characters, e.g. %s", name, DefaultControllerName)
	}
	return nil
}
