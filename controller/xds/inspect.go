package xds

import (
	"errors"
	"fmt"

	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/controller/internal/deepvalidate"
)

var (
	credentialName  = (&apikeyauthv3.Credential{}).ProtoReflect().Descriptor().FullName()
	credentialKey   = (&apikeyauthv3.Credential{}).ProtoReflect().Descriptor().Fields().ByName("key")
	tlsCertName     = (&tlsv3.TlsCertificate{}).ProtoReflect().Descriptor().FullName()
	sdsSecretConfig = (&tlsv3.SdsSecretConfig{}).ProtoReflect().Descriptor().FullName()
	deterministic   = proto.MarshalOptions{Deterministic: true}
)

// inspection is the result of walking resources: validation errors, the
// secret values they carry (API keys, TLS private keys), so that no error
// or log derived from them can repeat one, and the SDS Secrets they name.
type inspection struct {
	errs []error
	keys map[string]struct{}
	// sdsNames are the Secrets that TLS contexts name, to be served by SDS.
	sdsNames map[string]struct{}
}

func newInspection() *inspection {
	return &inspection{keys: map[string]struct{}{}, sdsNames: map[string]struct{}{}}
}

// inspect validates res and every message packed in an Any inside it, and
// rewrites each Any's bytes in deterministic form so that equal content
// hashes equally whatever map order the producer marshalled in. res is
// modified: pass a clone. root names res in errors.
func (in *inspection) inspect(root *deepvalidate.Path, res proto.Message) {
	w := deepvalidate.Walker{OnMessage: in.collect, OnPacked: canonicalise}
	if err := w.Walk(root, res); err != nil {
		in.errs = append(in.errs, err)
	}
}

func (in *inspection) collect(_ *deepvalidate.Path, m protoreflect.Message) {
	switch m.Descriptor().FullName() {
	case credentialName:
		if key := m.Get(credentialKey).String(); key != "" {
			in.keys[key] = struct{}{}
		}
	case tlsCertName:
		// Messages come from Go types (protoregistry.GlobalTypes), never
		// dynamic ones: the assertions hold.
		for _, v := range privateKeyValues(m.Interface().(*tlsv3.TlsCertificate)) {
			in.keys[v] = struct{}{}
		}
	case sdsSecretConfig:
		in.sdsNames[m.Interface().(*tlsv3.SdsSecretConfig).GetName()] = struct{}{}
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
