package envoybootstrap

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
)

// runtimeKeys are the static runtime keys the sim accepts, each with why it
// changes nothing the sim is tested on: HTTP routing and API key auth. Any
// other key may change either, so it is an error until someone adds it here
// with its reason.
var runtimeKeys = map[string]string{
	// kgateway, and Envoy Gateway before v1.9.
	"envoy.restart_features.use_eds_cache_for_ads": "lets Envoy reuse endpoints it cached when a cluster is updated or the ADS stream reconnects without the control plane resending them; control planes here answer every EDS subscription, so the endpoints are the same",
	// Envoy Gateway.
	"re2.max_program_size.error_level":                           "Envoy rejects a regex whose RE2 program is larger; the sim's Go regexp has no such limit at any setting (Envoy Gateway sets 4294967295, effectively none)",
	"re2.max_program_size.warn_level":                            "Envoy only logs a warning for a larger regex",
	"envoy.reloadable_features.oauth2_legacy_cbc_decrypt_compat": "read only by the oauth2 HTTP filter, which the sim does not implement (it rejects the filter)",
	"envoy.reloadable_features.oauth2_use_gcm_encryption":        "read only by the oauth2 HTTP filter, which the sim does not implement (it rejects the filter)",
}

var runtimeLayerFields = map[protoreflect.Name]rule{
	"name":         implemented,
	"static_layer": implemented,
	// kgateway adds an empty admin layer.
	"admin_layer": ignored("holds values set through the admin interface's /runtime_modify, which the sim's admin interface does not serve, so the layer stays empty"),
}

// runtime checks layered_runtime: static layers with allowed keys only.
// Disk and RTDS layers bring values from outside the bootstrap and are
// errors (not in runtimeLayerFields).
func (l *loader) runtime() error {
	lr := l.b.GetLayeredRuntime()
	if lr == nil {
		return nil
	}
	if err := l.check.fields(lr, "bootstrap field", "layered_runtime", map[protoreflect.Name]rule{"layers": implemented}); err != nil {
		return err
	}
	for i, layer := range lr.GetLayers() {
		path := fmt.Sprintf("layered_runtime.layers[%d]", i)
		if err := l.check.fields(layer, "bootstrap field", path, runtimeLayerFields); err != nil {
			return fmt.Errorf("%s %q: %w", path, layer.GetName(), err)
		}
		if err := l.staticLayer(layer, path); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) staticLayer(layer *bootstrapv3.RuntimeLayer, path string) error {
	if layer.GetStaticLayer() == nil {
		return nil
	}
	keys := map[string]bool{}
	if err := flattenRuntime("", layer.GetStaticLayer(), keys); err != nil {
		return fmt.Errorf("%s %q: %w", path, layer.GetName(), err)
	}
	var bad []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		why, ok := runtimeKeys[k]
		if !ok {
			bad = append(bad, k)
			continue
		}
		l.check.ignore(path+".static_layer."+k, why)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s %q: static_layer sets runtime key(s) %s, which may change routing or API key auth and are not on the sim's list of keys known not to (runtimeKeys in sim/envoybootstrap/runtime.go)", path, layer.GetName(), strings.Join(bad, ", "))
	}
	return nil
}

// flattenRuntime collects the keys of a static layer as Envoy's runtime
// loader does (SnapshotImpl's walkProtoValue, source/common/runtime/runtime_impl.cc):
// nested structs join their keys with '.'; leaves are the values.
func flattenRuntime(prefix string, s *structpb.Struct, keys map[string]bool) error {
	for k, v := range s.GetFields() {
		full := k
		if prefix != "" {
			full = prefix + "." + k
		}
		switch v.GetKind().(type) {
		case *structpb.Value_StructValue:
			if err := flattenRuntime(full, v.GetStructValue(), keys); err != nil {
				return err
			}
		case *structpb.Value_ListValue:
			return fmt.Errorf("runtime key %s has a list value, which Envoy rejects", full)
		default:
			keys[full] = true
		}
	}
	return nil
}
