package envoybootstrap

import (
	"errors"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

var sdsConfigFields = map[protoreflect.Name]rule{
	"path_config_source":    implemented,
	"path":                  implemented, // deprecated form of path_config_source.path
	"resource_api_version":  implemented,
	"initial_fetch_timeout": ignored("how long Envoy waits for the secret; the sim reads the file at start or fails"),
}

var pathConfigSourceFields = map[protoreflect.Name]rule{
	"path":              implemented,
	"watched_directory": ignored(whyRotation),
	"poll_interval":     ignored(whyRotation),
}

var secretFields = map[protoreflect.Name]rule{
	"name":               implemented,
	"tls_certificate":    implemented,
	"validation_context": implemented,
}

const secretTypeURL = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"

// secret resolves an SdsSecretConfig as Envoy does
// (source/common/tls/context_config_impl.cc, source/common/secret/sds_api.cc)
// and runs use on the secret and its path (relative to where the secret came
// from, the context of use's errors and ignored fields):
//
//   - without sds_config, a static secret of static_resources.secrets;
//   - with sds_config.path_config_source (or the deprecated path), a file
//     holding a DiscoveryResponse with exactly that one Secret, read like a
//     bootstrap (JSON, or YAML by extension), as Envoy's filesystem
//     subscription does.
//
// Envoy rejects a bad SDS file as a config update and keeps running with no
// certificate, so its xDS connection fails; the sim fails at start instead,
// saying why.
//
// validation says which secret type the reference wants: a
// validation_context, else a tls_certificate.
func (l *loader) secret(cfg *tlsv3.SdsSecretConfig, path string, validation bool, use func(s *tlsv3.Secret, at string) error) error {
	name := cfg.GetName()
	fail := func(err error) error { return fmt.Errorf("%s %q: %w", path, name, err) }
	if cfg.GetSdsConfig() == nil {
		for i, s := range l.b.GetStaticResources().GetSecrets() {
			if s.GetName() != name || (validation && s.GetValidationContext() == nil) || (!validation && s.GetTlsCertificate() == nil) {
				continue
			}
			where := fmt.Sprintf("static_resources.secrets[%d]", i)
			err := l.check.within(where+".", func() error {
				if err := l.check.fields(s, "field", "", secretFields); err != nil {
					return err
				}
				return use(s, "")
			})
			if err != nil {
				return fail(fmt.Errorf("%s: %w", where, err))
			}
			return nil
		}
		// SecretManagerImpl's static providers are kept by type.
		if validation {
			return fail(fmt.Errorf("no such static secret with a validation_context: Envoy rejects it (\"Unknown static certificate validation context: %s\")", name))
		}
		return fail(fmt.Errorf("no such static secret with a tls_certificate: Envoy rejects it (\"Unknown static secret: %s\")", name))
	}

	cs := cfg.GetSdsConfig()
	var file string
	// Ignored fields of sds_config are recorded under the reference's
	// full path; errors name them relative to it.
	err := l.check.within(l.check.base+path+".", func() error {
		if err := l.check.fields(cs, "field", "sds_config", sdsConfigFields); err != nil {
			return fmt.Errorf("%w (the sim implements SDS from files, sds_config.path_config_source, only)", err)
		}
		if pcs := cs.GetPathConfigSource(); pcs != nil {
			file = pcs.GetPath()
			return l.check.fields(pcs, "field", "sds_config.path_config_source", pathConfigSourceFields)
		}
		// The deprecated path is still read by Envoy.
		file = cs.GetPath()
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if v := cs.GetResourceApiVersion(); v == corev3.ApiVersion_V2 {
		return fail(errors.New("sds_config.resource_api_version V2: Envoy no longer has v2 resources: set V3"))
	}
	s, err := l.sdsFile(file, name)
	if err != nil {
		return fail(err)
	}
	where := "SDS file " + file
	err = l.check.within(where+": ", func() error {
		if err := l.check.fields(s, "field", "resources[0]", secretFields); err != nil {
			return err
		}
		if validation && s.GetValidationContext() == nil {
			return errors.New("the secret has no validation_context")
		}
		if !validation && s.GetTlsCertificate() == nil {
			return errors.New("the secret has no tls_certificate")
		}
		return use(s, "resources[0]")
	})
	if err != nil {
		return fail(fmt.Errorf("%s: %w", where, err))
	}
	return nil
}

// sdsFile reads the one Secret of an SDS file, checked as SdsApi's
// onConfigUpdate and validateUpdateSize do.
func (l *loader) sdsFile(file, name string) (*tlsv3.Secret, error) {
	data, err := l.read(file)
	if err != nil {
		return nil, fmt.Errorf("SDS file %s: %w", file, err)
	}
	var resp discoveryv3.DiscoveryResponse
	// Unknown fields in xDS resources are accepted, as Envoy does by
	// default for dynamic configuration.
	if err := decodeFile(file, data, &resp, true); err != nil {
		return nil, fmt.Errorf("SDS file %s: not a DiscoveryResponse of secrets: %w", file, err)
	}
	switch n := len(resp.GetResources()); {
	case n == 0:
		return nil, fmt.Errorf("SDS file %s: Envoy rejects it (\"Missing SDS resources for %s in onConfigUpdate()\")", file, name)
	case n > 1:
		return nil, fmt.Errorf("SDS file %s: %d resources: Envoy rejects it (\"Unexpected SDS secrets length for %s, number of added resources %d, number of removed resources 0. Expected sum is 1\")", file, n, name, n)
	}
	a := resp.GetResources()[0]
	if a.GetTypeUrl() != secretTypeURL {
		return nil, fmt.Errorf("SDS file %s: resources[0] is a %s, not a %s", file, a.GetTypeUrl(), secretTypeURL)
	}
	m, err := unpack(a)
	if err != nil {
		return nil, fmt.Errorf("SDS file %s: resources[0]: %w", file, err)
	}
	s := m.(*tlsv3.Secret)
	if s.GetName() != name {
		return nil, fmt.Errorf("SDS file %s: Envoy rejects it (\"Unexpected SDS secret (expecting %s): %s\")", file, name, s.GetName())
	}
	return s, nil
}

// dataSource returns what a DataSource holds. Errors name the field and
// file, never the data.
func (l *loader) dataSource(d *corev3.DataSource, path string) ([]byte, error) {
	if d.GetWatchedDirectory() != nil {
		l.check.ignore(path+".watched_directory", whyRotation)
	}
	switch s := d.GetSpecifier().(type) {
	case *corev3.DataSource_Filename:
		data, err := l.read(s.Filename)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return data, nil
	case *corev3.DataSource_InlineBytes:
		return s.InlineBytes, nil
	case *corev3.DataSource_InlineString:
		return []byte(s.InlineString), nil
	case *corev3.DataSource_EnvironmentVariable:
		return nil, fmt.Errorf("%s: environment_variable %q: the sim does not see the container's environment; mount the data as a file", path, s.EnvironmentVariable)
	default:
		return nil, fmt.Errorf("%s: empty DataSource", path)
	}
}
