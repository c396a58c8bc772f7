package xdsclient

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/sim/sensitive"
)

// requestLocked asks the live stream, if any, to tell the server about
// typeURL; what it is told is decided when the request is sent.
func (c *Client) requestLocked(typeURL string) {
	if c.session != nil {
		c.session.enqueue(typeURL)
	}
}

// answerLocked queues the ACK or NACK of a response on the live stream.
// Each answer goes out in a request of its own, as Envoy sends them.
func (c *Client) answerLocked(typeURL string, a answer) {
	if c.session == nil {
		return
	}
	s := c.subs[typeURL]
	s.answers = append(s.answers, a)
	c.requestLocked(typeURL)
}

// nextRequest builds the next request for typeURL from the subscription
// state, or returns nil when the server is owed nothing. It runs as the
// request is sent, so a request waiting behind others carries the latest
// names. first tells whether it is the stream's first message.
func (c *Client) nextRequest(typeURL string, first bool) proto.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.subs[typeURL]
	if !s.due() {
		return nil
	}
	var node *corev3.Node
	if first || !c.opts.NodeOnFirstMessageOnly {
		node = c.node
	}
	var ans *answer
	if len(s.answers) > 0 {
		a := s.answers[0]
		s.answers, ans = s.answers[1:], &a
	}
	req := c.wire.request(typeURL, s, node, ans)
	s.sent = true
	if !s.wildcard {
		s.announced = s.names
		s.dropUnannounced(s.held)
	}
	return req
}

// scrubbedDetail is the NACK's error detail. Envoy reports code INTERNAL with
// the exception text; here any credential value that appears in the
// rejected resources is removed from the text first, so a key never reaches
// the control plane's logs.
func scrubbedDetail(err error, resources []*anypb.Any) *status.Status {
	var msgs []proto.Message
	for _, r := range resources {
		if m, uerr := r.UnmarshalNew(); uerr == nil {
			msgs = append(msgs, m)
		}
	}
	return &status.Status{Code: int32(codes.Internal), Message: sensitive.ScrubError(err, msgs...)}
}
