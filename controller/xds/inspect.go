package xds

import (
	"errors"
	"fmt"

	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/controller/internal/deepvalidate"
)

var (
	credentialName = (&apikeyauthv3.Credential{}).ProtoReflect().Descriptor().FullName()
	credentialKey  = (&apikeyauthv3.Credential{}).ProtoReflect().Descriptor().Fields().ByName("key")
	deterministic  = proto.MarshalOptions{Deterministic: true}
)

// inspection is the result of walking resources: validation errors and
// the API key values they carry, so that no error or log derived from them
// can repeat one.
type inspection struct {
	errs []error
	keys map[string]struct{}
}

// inspect validates res and every message packed in an Any inside it, and
// rewrites each Any's bytes in deterministic form so that equal content
// hashes equally whatever map order the producer marshalled in. res is
// modified: pass a clone. root names res in errors.
func (in *inspection) inspect(root *deepvalidate.Path, res proto.Message) {
	w := deepvalidate.Walker{OnMessage: in.collectKey, OnPacked: canonicalise}
	if err := w.Walk(root, res); err != nil {
		in.errs = append(in.errs, err)
	}
}

func (in *inspection) collectKey(_ *deepvalidate.Path, m protoreflect.Message) {
	if m.Descriptor().FullName() != credentialName {
		return
	}
	if key := m.Get(credentialKey).String(); key != "" {
		in.keys[key] = struct{}{}
	}
}

// canonicalise re-packs inner, whose own Anys are canonical by now.
func canonicalise(_ *deepvalidate.Path, a *anypb.Any, inner proto.Message) error {
	b, err := deterministic.Marshal(inner)
	if err != nil {
		return fmt.Errorf("re-encoding: %w", err)
	}
	a.Value = b
	return nil
}

// err joins the validation errors, nil when there are none.
func (in *inspection) err() error {
	return errors.Join(in.errs...)
}
