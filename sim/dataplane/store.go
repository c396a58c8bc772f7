package dataplane

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// entry is one accepted resource with the version it came in.
type entry[T any] struct {
	version string
	updated time.Time
	msg     proto.Message
	spec    T
}

type compileFunc[T any] func(proto.Message) (name string, spec T, err error)

// applyResources merges one response into the accepted set, per resource,
// as Envoy does for LDS and CDS: a resource that fails keeps its previous
// version (if any) and its error is reported; the others are applied.
// With fullState (LDS, CDS) names absent from the response are removed; for
// RDS and EDS they are kept until unsubscribed.
func applyResources[T any](old map[string]*entry[T], version string, now time.Time, res []*anypb.Any, fullState bool, compile compileFunc[T]) (map[string]*entry[T], []string, error) {
	next := map[string]*entry[T]{}
	if !fullState {
		next = maps.Clone(old)
	}
	var errs []error
	var names []string
	seen := map[string]bool{}
	for i, a := range res {
		m, err := a.UnmarshalNew()
		if err != nil {
			errs = append(errs, fmt.Errorf("resource %d: %w", i, err))
			continue
		}
		name, spec, err := compile(m)
		if name != "" && seen[name] {
			errs = append(errs, fmt.Errorf("%q: duplicate resource name in one response", name))
			continue
		}
		seen[name] = true
		names = append(names, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%q: %w", name, err))
			if prev, ok := old[name]; ok {
				next[name] = prev
			}
			continue
		}
		if prev, ok := old[name]; ok && proto.Equal(prev.msg, m) {
			kept := *prev
			kept.version = version
			next[name] = &kept
			continue
		}
		next[name] = &entry[T]{version: version, updated: now, msg: m, spec: spec}
	}
	return next, names, errors.Join(errs...)
}
