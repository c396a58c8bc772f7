// Package deepvalidate checks an Envoy message the way a data plane loads
// it: its generated ValidateAll(), and that of every message packed in an
// Any inside it, which ValidateAll() does not open. The walk also lets the
// caller look at every message it meets and at every Any once the message
// inside has been walked.
package deepvalidate

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

var anyName = (&anypb.Any{}).ProtoReflect().Descriptor().FullName()

// validator is what protoc-gen-validate generates for every Envoy message.
type validator interface{ ValidateAll() error }

// Walker validates a message deeply. The zero Walker only validates.
type Walker struct {
	// RequireRules makes a message without generated validation an error,
	// for callers that must know nothing went unchecked. Otherwise such a
	// message (a well-known type) is taken to have nothing to check.
	RequireRules bool
	// OnMessage, if set, is called for every message met, those decoded
	// from an Any included, before its fields; not for the Any itself.
	OnMessage func(at *Path, m protoreflect.Message)
	// OnPacked, if set, is called for every Any after the message inside
	// it was walked, with that message; an error is reported at the Any.
	OnPacked func(at *Path, a *anypb.Any, inner proto.Message) error
}

// Walk validates m and every message packed in it, calling the hooks on
// the way. It returns every error found, each prefixed by where (at names
// m), joined; nil when there are none.
func (w Walker) Walk(at *Path, m proto.Message) error {
	run := &walk{Walker: w}
	run.validate(at, m)
	run.walk(at, m.ProtoReflect())
	return errors.Join(run.errs...)
}

// walk is one Walk in progress. Range takes a closure per message, which
// escapes; capturing the walk by pointer keeps each one small.
type walk struct {
	Walker
	errs []error
}

// validate runs m's generated validation.
func (w *walk) validate(at *Path, m proto.Message) {
	v, ok := m.(validator)
	switch {
	case ok:
		if err := v.ValidateAll(); err != nil {
			w.errs = append(w.errs, at.Wrap(err))
		}
	case w.RequireRules:
		w.errs = append(w.errs, at.Wrap(errors.New("no generated validation: nothing would check this message")))
	}
}

func (w *walk) walk(at *Path, m protoreflect.Message) {
	if m.Descriptor().FullName() == anyName {
		w.unpack(at, m.Interface().(*anypb.Any))
		return
	}
	if w.OnMessage != nil {
		w.OnMessage(at, m)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		switch {
		case fd.IsList():
			list := v.List()
			for i := range list.Len() {
				w.walk(at.index(fd.Name(), i), list.Get(i).Message())
			}
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				return true
			}
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				w.walk(at.key(fd.Name(), k.String()), mv.Message())
				return true
			})
		default:
			w.walk(at.field(fd.Name()), v.Message())
		}
		return true
	})
}

// unpack decodes the message inside a, validates and walks it.
func (w *walk) unpack(at *Path, a *anypb.Any) {
	inner, err := a.UnmarshalNew()
	if err != nil {
		w.errs = append(w.errs, at.Wrap(fmt.Errorf("cannot decode %s (is its Go package linked into the controller?): %w", a.GetTypeUrl(), err)))
		return
	}
	at = at.typed(inner.ProtoReflect().Descriptor().FullName())
	w.validate(at, inner)
	w.walk(at, inner.ProtoReflect())
	if w.OnPacked != nil {
		if err := w.OnPacked(at, a, inner); err != nil {
			w.errs = append(w.errs, at.Wrap(err))
		}
	}
}
