package dataplane

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// compileRequestHandling compiles the connection manager fields that decide
// how a request is read before it is routed: the path policy and the
// protocol options, NACKing the options the sim does not implement.
// hcmFieldRules (hcmfields.go) says which connection manager fields are
// accepted without effect, and why.
func compileRequestHandling(h *hcmv3.HttpConnectionManager, s *hcmSpec) error {
	common := h.GetCommonHttpProtocolOptions()
	if common.GetMaxResponseHeadersKb() != nil {
		// HttpConnectionManagerConfig's constructor refuses it.
		return errors.New("Error: max_response_headers_kb cannot be set on http_connection_manager.")
	}
	// Of the protocol options (common_http_protocol_options and the HTTP/1
	// codec's http_protocol_options) the sim implements
	// headers_with_underscores_action; every other one set changes what
	// Envoy does with a connection or a request (idle and duration limits,
	// request and header counts, header case, HTTP/1.0, trailers, ...). The
	// connection manager's own fields are in hcmFieldRules.
	set := setFields("common_http_protocol_options", common, "headers_with_underscores_action")
	maps.Copy(set, setFields("http_protocol_options", h.GetHttpProtocolOptions()))
	if err := unsupported("http_connection_manager", set); err != nil {
		return err
	}
	switch s.underscores = common.GetHeadersWithUnderscoresAction(); s.underscores {
	case corev3.HttpProtocolOptions_ALLOW, corev3.HttpProtocolOptions_REJECT_REQUEST, corev3.HttpProtocolOptions_DROP_HEADER:
	default:
		return fmt.Errorf("common_http_protocol_options.headers_with_underscores_action %d is not a known action", s.underscores)
	}
	var err error
	s.paths, err = compilePathPolicy(h)
	return err
}

// setFields names the fields set in m ("prefix.field"), except the given
// ones.
func setFields(prefix string, m proto.Message, except ...string) map[string]bool {
	out := map[string]bool{}
	if m == nil || !m.ProtoReflect().IsValid() {
		return out
	}
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if name := string(fd.Name()); !slices.Contains(except, name) {
			out[prefix+"."+name] = true
		}
		return true
	})
	return out
}
