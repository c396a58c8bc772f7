package xds

import (
	"context"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc/peer"
)

// streamState is what the server knows about one open ADS stream.
type streamState struct {
	// node is empty until the first request names it.
	node string
	// sent maps each type's last response nonce to its version, so that a
	// NACK can say which version was rejected.
	sent map[string]sentResponse
}

type sentResponse struct{ nonce, version string }

func (s *Server) callbacks() serverv3.Callbacks {
	return serverv3.CallbackFuncs{
		StreamOpenFunc:     s.onStreamOpen,
		StreamClosedFunc:   s.onStreamClosed,
		StreamRequestFunc:  s.onStreamRequest,
		StreamResponseFunc: s.onStreamResponse,
	}
}

func (s *Server) onStreamOpen(ctx context.Context, id int64, _ string) error {
	from := "unknown"
	if p, ok := peer.FromContext(ctx); ok {
		from = p.Addr.String()
	}
	s.mu.Lock()
	s.streams[id] = &streamState{sent: map[string]sentResponse{}}
	s.mu.Unlock()
	s.log.Info("xDS stream opened", "stream", id, "peer", from)
	return nil
}

func (s *Server) onStreamClosed(id int64, node *corev3.Node) {
	s.mu.Lock()
	st := s.streams[id]
	delete(s.streams, id)
	if st != nil && st.node != "" {
		s.connected[st.node]--
		if s.connected[st.node] <= 0 {
			delete(s.connected, st.node)
			if ns := s.published[st.node]; ns != nil && ns.gone {
				s.cache.ClearSnapshot(st.node)
				delete(s.published, st.node)
			}
		}
	}
	s.mu.Unlock()
	s.log.Info("xDS stream closed", "stream", id, "node", node.GetId())
}

func (s *Server) onStreamRequest(id int64, req *discoveryv3.DiscoveryRequest) error {
	node := req.GetNode().GetId()
	s.mu.Lock()
	st := s.streams[id]
	if st != nil && st.node == "" && node != "" {
		st.node = node
		s.connected[node]++
	}
	var rejected sentResponse
	if st != nil {
		rejected = st.sent[req.GetTypeUrl()]
	}
	var keys map[string]struct{}
	if ns := s.published[node]; ns != nil && req.GetErrorDetail() != nil {
		keys = union(ns.keys, ns.prevKeys)
	}
	s.mu.Unlock()

	switch {
	case req.GetErrorDetail() != nil:
		rejectedVersion := ""
		if rejected.nonce == req.GetResponseNonce() {
			rejectedVersion = rejected.version
		}
		s.log.Warn("xDS NACK: the data plane rejected a configuration",
			"stream", id, "node", node, "type", req.GetTypeUrl(),
			"rejected_version", rejectedVersion, "kept_version", req.GetVersionInfo(),
			"error_code", req.GetErrorDetail().GetCode(),
			"error_detail", truncate(redact(req.GetErrorDetail().GetMessage(), keys), maxDetail))
		if rejectedVersion != "" {
			// The cache answers any request whose version differs from the
			// snapshot's at once: it would send the rejected configuration
			// straight back, and a data plane would NACK it again, in a
			// loop. Presenting the rejected version as the one held makes
			// the cache wait for the next change instead; the data plane
			// keeps its last good configuration meanwhile, as it would.
			req.VersionInfo = rejectedVersion
		}
	case req.GetResponseNonce() != "":
		s.log.Info("xDS ACK", "stream", id, "node", node, "type", req.GetTypeUrl(), "version", req.GetVersionInfo())
	default:
		s.log.Debug("xDS subscription", "stream", id, "node", node, "type", req.GetTypeUrl(), "names", len(req.GetResourceNames()))
	}
	return nil
}

func (s *Server) onStreamResponse(_ context.Context, id int64, req *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.streams[id]; st != nil {
		st.sent[req.GetTypeUrl()] = sentResponse{resp.GetNonce(), resp.GetVersionInfo()}
	}
}

func union(a, b map[string]struct{}) map[string]struct{} {
	out := make(map[string]struct{}, len(a)+len(b))
	for k := range a {
		out[k] = struct{}{}
	}
	for k := range b {
		out[k] = struct{}{}
	}
	return out
}
