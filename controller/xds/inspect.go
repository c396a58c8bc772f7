package xds

import (
	"errors"
	"fmt"
	"strings"

	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

var (
	anyName        = (&anypb.Any{}).ProtoReflect().Descriptor().FullName()
	credentialName = (&apikeyauthv3.Credential{}).ProtoReflect().Descriptor().FullName()
	credentialKey  = (&apikeyauthv3.Credential{}).ProtoReflect().Descriptor().Fields().ByName("key")
	deterministic  = proto.MarshalOptions{Deterministic: true}
)

// validator is what protoc-gen-validate generates for every Envoy message.
type validator interface{ ValidateAll() error }

// inspection is the result of walking one resource: validation errors and
// the API key values it carries, so that no error or log derived from this
// resource can repeat one.
type inspection struct {
	errs []error
	keys map[string]struct{}
}

// inspect validates res and every message packed in an Any inside it, and
// rewrites each Any's bytes in deterministic form so that equal content
// hashes equally whatever map order the producer marshalled in. res is
// modified: pass a clone. root names res in errors.
func (in *inspection) inspect(root *path, res proto.Message) {
	in.validate(root, res)
	in.walk(root, res.ProtoReflect())
}

func (in *inspection) validate(at *path, m proto.Message) {
	v, ok := m.(validator)
	if !ok {
		// Messages without generated rules (well-known types) have
		// nothing to check.
		return
	}
	if err := v.ValidateAll(); err != nil {
		in.errs = append(in.errs, at.wrap(err))
	}
}

func (in *inspection) walk(at *path, m protoreflect.Message) {
	desc := m.Descriptor()
	switch desc.FullName() {
	case anyName:
		in.unpack(at, m.Interface().(*anypb.Any))
		return
	case credentialName:
		if key := m.Get(credentialKey).String(); key != "" {
			in.keys[key] = struct{}{}
		}
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		switch {
		case fd.IsList():
			list := v.List()
			for i := range list.Len() {
				in.walk(at.index(fd.Name(), i), list.Get(i).Message())
			}
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				return true
			}
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				in.walk(at.key(fd.Name(), k.String()), mv.Message())
				return true
			})
		default:
			in.walk(at.field(fd.Name()), v.Message())
		}
		return true
	})
}

// unpack validates the message inside a, walks it, then re-packs it
// deterministically.
func (in *inspection) unpack(at *path, a *anypb.Any) {
	inner, err := a.UnmarshalNew()
	if err != nil {
		in.errs = append(in.errs, at.wrap(fmt.Errorf("cannot decode %s (is its Go package linked into the controller?): %w", a.GetTypeUrl(), err)))
		return
	}
	at = at.typed(inner.ProtoReflect().Descriptor().FullName())
	in.validate(at, inner)
	in.walk(at, inner.ProtoReflect())
	b, err := deterministic.Marshal(inner)
	if err != nil {
		in.errs = append(in.errs, at.wrap(fmt.Errorf("re-encoding: %w", err)))
		return
	}
	a.Value = b
}

// path locates a message inside a resource. It is a linked list built while
// walking and rendered only when an error needs it.
type path struct {
	parent *path
	elem   string
}

func rootPath(kind, name string) *path {
	return &path{elem: fmt.Sprintf("%s %q", kind, name)}
}

func (p *path) field(name protoreflect.Name) *path {
	return &path{parent: p, elem: "." + string(name)}
}

func (p *path) index(name protoreflect.Name, i int) *path {
	return &path{parent: p, elem: fmt.Sprintf(".%s[%d]", name, i)}
}

func (p *path) key(name protoreflect.Name, k string) *path {
	return &path{parent: p, elem: fmt.Sprintf(".%s[%q]", name, k)}
}

func (p *path) typed(name protoreflect.FullName) *path {
	return &path{parent: p, elem: "(" + string(name) + ")"}
}

func (p *path) String() string {
	var elems []string
	for ; p != nil; p = p.parent {
		elems = append(elems, p.elem)
	}
	var b strings.Builder
	for i := len(elems) - 1; i >= 0; i-- {
		b.WriteString(elems[i])
	}
	return b.String()
}

func (p *path) wrap(err error) error {
	if p == nil {
		return err
	}
	return fmt.Errorf("%s: %w", p, err)
}

// err joins the validation errors, nil when there are none.
func (in *inspection) err() error {
	return errors.Join(in.errs...)
}
