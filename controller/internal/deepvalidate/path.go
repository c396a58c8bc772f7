package deepvalidate

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Path locates a message inside a resource. It is a linked list built while
// walking and rendered only when an error needs it.
type Path struct {
	parent *Path
	elem   string
}

// Root names the resource a walk starts at, e.g. Listener "listener~8080".
func Root(kind, name string) *Path {
	return &Path{elem: fmt.Sprintf("%s %q", kind, name)}
}

func (p *Path) field(name protoreflect.Name) *Path {
	return &Path{parent: p, elem: "." + string(name)}
}

func (p *Path) index(name protoreflect.Name, i int) *Path {
	return &Path{parent: p, elem: fmt.Sprintf(".%s[%d]", name, i)}
}

func (p *Path) key(name protoreflect.Name, k string) *Path {
	return &Path{parent: p, elem: fmt.Sprintf(".%s[%q]", name, k)}
}

func (p *Path) typed(name protoreflect.FullName) *Path {
	return &Path{parent: p, elem: "(" + string(name) + ")"}
}

func (p *Path) String() string {
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

// Wrap prefixes err with the path.
func (p *Path) Wrap(err error) error {
	if p == nil {
		return err
	}
	return fmt.Errorf("%s: %w", p, err)
}
