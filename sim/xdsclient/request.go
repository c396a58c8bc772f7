package xdsclient

import (
	"cmp"
	"slices"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/sim/sensitive"
)

// requestLocked queues the current request for typeURL (an ACK, a NACK when
// detail is set, or a subscription change) on the live stream, if any.
func (c *Client) requestLocked(typeURL string, detail *status.Status) {
	if c.session == nil {
		return
	}
	s := c.subs[typeURL]
	s.sent = true
	c.session.enqueue(c.buildLocked(typeURL, s, detail))
}

func (c *Client) buildLocked(typeURL string, s *subscription, detail *status.Status) *discoveryv3.DiscoveryRequest {
	req := &discoveryv3.DiscoveryRequest{
		Node:          c.node,
		TypeUrl:       typeURL,
		VersionInfo:   s.version,
		ResponseNonce: s.nonce,
		ErrorDetail:   detail,
	}
	if !s.wildcard {
		req.ResourceNames = s.names
	}
	return req
}

// scrubbedDetail is the NACK's error detail. Envoy reports code INTERNAL with
// the exception text; here any credential value that appears in the
// rejected resources is removed from the text first, so a key never reaches
// the control plane's logs.
func scrubbedDetail(err error, resources []*anypb.Any) *status.Status {
	var values []string
	for _, r := range resources {
		if m, uerr := r.UnmarshalNew(); uerr == nil {
			values = append(values, sensitive.Values(m)...)
		}
	}
	msg := sensitive.Scrub(err.Error(), sortedLongestFirst(values))
	return &status.Status{Code: int32(codes.Internal), Message: msg}
}

func sortedLongestFirst(vs []string) []string {
	slices.SortFunc(vs, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return vs
}
