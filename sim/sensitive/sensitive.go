// Package sensitive finds and redacts the proto fields Envoy marks
// `(udpa.annotations.sensitive) = true`, such as api_key_auth's
// Credential.key, at any depth and inside google.protobuf.Any, the way
// Envoy's MessageUtil::redact does for /config_dump.
package sensitive

import (
	"cmp"
	"slices"
	"strings"

	"github.com/cncf/xds/go/udpa/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// Redacted replaces sensitive string and bytes values, as in Envoy.
const Redacted = "[redacted]"

// Redact rewrites m in place: sensitive strings and bytes (and those under a
// sensitive message) become "[redacted]", other sensitive scalars are
// cleared, and of a sensitive map only the values are redacted. Any fields
// are unpacked, redacted and packed again.
func Redact(m proto.Message) {
	redact(m.ProtoReflect(), false)
}

// Values returns the distinct non-empty values of the sensitive string and
// bytes fields of ms, longest first, so that Scrub can remove them from
// text.
func Values(ms ...proto.Message) []string {
	seen := map[string]bool{}
	for _, m := range ms {
		collect(m.ProtoReflect(), false, seen)
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a, b)) })
	return out
}

// ScrubError is err's text with the sensitive values of ms redacted: how an
// error about those messages (Envoy's duplicate-key error echoes the key)
// may be reported.
func ScrubError(err error, ms ...proto.Message) string {
	return Scrub(err.Error(), Values(ms...))
}

// Scrub replaces every occurrence of each value in s with "[redacted]".
// values should be longest first (as Values returns them).
func Scrub(s string, values []string) string {
	for _, v := range values {
		if v != "" {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return s
}

func isSensitive(fd protoreflect.FieldDescriptor) bool {
	opts := fd.Options()
	if opts == nil {
		return false
	}
	v, _ := proto.GetExtension(opts, annotations.E_Sensitive).(bool)
	return v
}

type field struct {
	fd protoreflect.FieldDescriptor
	v  protoreflect.Value
}

// populated lists the set fields first: mutating a message while ranging
// over it is not allowed.
func populated(m protoreflect.Message) []field {
	var fs []field
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		fs = append(fs, field{fd, v})
		return true
	})
	return fs
}

func isText(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.StringKind || fd.Kind() == protoreflect.BytesKind
}

func redactedValue(fd protoreflect.FieldDescriptor) protoreflect.Value {
	if fd.Kind() == protoreflect.BytesKind {
		return protoreflect.ValueOfBytes([]byte(Redacted))
	}
	return protoreflect.ValueOfString(Redacted)
}

func redact(m protoreflect.Message, ancestor bool) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			// Unknown type: nothing can be said about its fields.
			return
		}
		redact(inner.ProtoReflect(), ancestor)
		deterministic := proto.MarshalOptions{Deterministic: true}
		if b, err := deterministic.Marshal(inner); err == nil {
			a.Value = b
		}
		return
	}
	for _, f := range populated(m) {
		s := ancestor || isSensitive(f.fd)
		switch {
		case f.fd.IsMap():
			f.v.Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				switch {
				case f.fd.MapValue().Message() != nil:
					redact(v.Message(), s)
				case s && isText(f.fd.MapValue()):
					f.v.Map().Set(k, redactedValue(f.fd.MapValue()))
				case s:
					f.v.Map().Set(k, f.fd.MapValue().Default())
				}
				return true
			})
		case f.fd.Message() != nil && f.fd.IsList():
			for i := range f.v.List().Len() {
				redact(f.v.List().Get(i).Message(), s)
			}
		case f.fd.Message() != nil:
			redact(f.v.Message(), s)
		case !s:
		case isText(f.fd) && f.fd.IsList():
			for i := range f.v.List().Len() {
				f.v.List().Set(i, redactedValue(f.fd))
			}
		case isText(f.fd):
			m.Set(f.fd, redactedValue(f.fd))
		default:
			m.Clear(f.fd)
		}
	}
}

func collect(m protoreflect.Message, ancestor bool, out map[string]bool) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		if inner, err := a.UnmarshalNew(); err == nil {
			collect(inner.ProtoReflect(), ancestor, out)
		}
		return
	}
	add := func(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
		var s string
		if fd.Kind() == protoreflect.BytesKind {
			s = string(v.Bytes())
		} else {
			s = v.String()
		}
		if s != "" {
			out[s] = true
		}
	}
	for _, f := range populated(m) {
		s := ancestor || isSensitive(f.fd)
		switch {
		case f.fd.IsMap():
			f.v.Map().Range(func(_ protoreflect.MapKey, v protoreflect.Value) bool {
				switch {
				case f.fd.MapValue().Message() != nil:
					collect(v.Message(), s, out)
				case s && isText(f.fd.MapValue()):
					add(f.fd.MapValue(), v)
				}
				return true
			})
		case f.fd.Message() != nil && f.fd.IsList():
			for i := range f.v.List().Len() {
				collect(f.v.List().Get(i).Message(), s, out)
			}
		case f.fd.Message() != nil:
			collect(f.v.Message(), s, out)
		case s && isText(f.fd) && f.fd.IsList():
			for i := range f.v.List().Len() {
				add(f.fd, f.v.List().Get(i))
			}
		case s && isText(f.fd):
			add(f.fd, f.v)
		}
	}
}
