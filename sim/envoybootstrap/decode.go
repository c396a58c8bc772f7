package envoybootstrap

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"
)

// decodeFile decodes a file into m as Envoy's MessageUtil::loadFromFile
// (source/common/protobuf/utility.cc) does: by the name's extension,
// case-insensitively. .yaml and .yml are YAML, .pb binary and .pb_text
// text protobuf, and anything else (.json, no extension) JSON.
func decodeFile(name string, data []byte, m proto.Message, discardUnknown bool) error {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".pb"), strings.HasSuffix(lower, ".pb_text"):
		return errors.New("binary and text protobuf files (.pb, .pb_text) are not implemented by the sim: give the file as YAML (.yaml, .yml) or JSON")
	case strings.HasSuffix(lower, ".yaml"), strings.HasSuffix(lower, ".yml"):
		return decodeYAML(data, m, discardUnknown)
	default:
		return decodeJSON(data, m, discardUnknown)
	}
}

// decodeYAML decodes YAML into m as Envoy's MessageUtil::loadFromYaml does:
// YAML converted to JSON (YAML 1.1 scalars, as yaml-cpp reads them), then
// the proto JSON mapping, which takes field names as in Envoy's
// documentation (snake_case) or in lowerCamelCase.
func decodeYAML(data []byte, m proto.Message, discardUnknown bool) error {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	if err := decodeJSON(j, m, discardUnknown); err != nil {
		// protojson's positions are in the JSON made from the YAML,
		// which nobody has seen; the field names in the message remain.
		return errors.New(jsonPosition.ReplaceAllString(err.Error(), ""))
	}
	return nil
}

var jsonPosition = regexp.MustCompile(`\(line \d+:\d+\): `)

func decodeJSON(data []byte, m proto.Message, discardUnknown bool) error {
	if t := bytes.TrimSpace(data); len(t) == 0 || string(t) == "null" {
		return errors.New("it is empty")
	}
	err := protojson.UnmarshalOptions{DiscardUnknown: discardUnknown}.Unmarshal(data, m)
	if err != nil && strings.Contains(err.Error(), "unable to resolve") {
		return fmt.Errorf("%w (%s)", err, unresolvedTypeHint)
	}
	return err
}

// validated is what protoc-gen-validate generates for every Envoy message.
type validated interface {
	proto.Message
	ValidateAll() error
}

// unpack decodes an Any and validates what it holds: a message's
// ValidateAll does not look inside its Anys.
func unpack(a *anypb.Any) (proto.Message, error) {
	if a == nil {
		return nil, errors.New("no typed_config")
	}
	m, err := a.UnmarshalNew()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.GetTypeUrl(), err)
	}
	if v, ok := m.(validated); ok {
		if err := v.ValidateAll(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// unresolvedTypeHint explains protojson's "unable to resolve" for an Any.
const unresolvedTypeHint = "a typed_config of a type the sim does not link in: if it is an Envoy type, add its go-control-plane package to sim/envoybootstrap/types.go"
