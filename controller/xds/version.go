package xds

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"

	"github.com/keyconform/keyconform/controller/internal/deepvalidate"
)

// versions are the per-type versions of one snapshot.
type versions struct {
	listener, route, cluster, endpoint, secret string
}

func (v *versions) set(typ types.ResponseType, version string) {
	switch typ {
	case types.Listener:
		v.listener = version
	case types.Route:
		v.route = version
	case types.Cluster:
		v.cluster = version
	case types.Endpoint:
		v.endpoint = version
	case types.Secret:
		v.secret = version
	}
}

func (v versions) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("lds", v.listener),
		slog.String("rds", v.route),
		slog.String("cds", v.cluster),
		slog.String("eds", v.endpoint),
		slog.String("sds", v.secret),
	)
}

// collect clones, names and inspects one type's resources. Problems are
// recorded in in; the returned resources are the canonical clones.
func collect[T proto.Message](in *inspection, kind string, list []T) []types.Resource {
	out := make([]types.Resource, 0, len(list))
	names := make(map[string]bool, len(list))
	for i, r := range list {
		if !r.ProtoReflect().IsValid() {
			in.errs = append(in.errs, fmt.Errorf("%s #%d is nil", kind, i))
			continue
		}
		c := proto.Clone(r)
		name := cachev3.GetResourceName(c)
		if name == "" {
			in.errs = append(in.errs, fmt.Errorf("%s #%d has no name", kind, i))
			continue
		}
		if names[name] {
			// The cache indexes by name: a second one would vanish.
			in.errs = append(in.errs, fmt.Errorf("%s %q is listed twice", kind, name))
			continue
		}
		names[name] = true
		in.inspect(deepvalidate.Root(kind, name), c)
		out = append(out, c)
	}
	return out
}

// contentVersion hashes resources in name order, so the version of a type
// changes exactly when its content does.
func contentVersion(items []types.Resource) (string, error) {
	type named struct {
		name string
		res  types.Resource
	}
	sorted := make([]named, len(items))
	for i, r := range items {
		sorted[i] = named{cachev3.GetResourceName(r), r}
	}
	slices.SortFunc(sorted, func(a, b named) int { return strings.Compare(a.name, b.name) })
	h := sha256.New()
	var buf []byte
	for _, r := range sorted {
		b, err := deterministic.MarshalAppend(buf[:0], r.res)
		if err != nil {
			return "", fmt.Errorf("encoding %q: %w", r.name, err)
		}
		buf = b
		// Length prefixes keep (name, bytes) pairs unambiguous.
		h.Write(binary.AppendUvarint(nil, uint64(len(r.name))))
		h.Write([]byte(r.name))
		h.Write(binary.AppendUvarint(nil, uint64(len(b))))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)[:8]), nil
}
