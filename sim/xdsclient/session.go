package xdsclient

import (
	"context"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
)

// session serialises the requests of one ADS stream. In state-of-the-world
// xDS the latest request of a type carries the whole state (version, nonce,
// names, error), so an unsent request is simply replaced by a newer one.
type session struct {
	stream  discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	mu      sync.Mutex
	pending map[string]*discoveryv3.DiscoveryRequest
	wake    chan struct{}
}

func newSession(stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient) *session {
	return &session{stream: stream, pending: map[string]*discoveryv3.DiscoveryRequest{}, wake: make(chan struct{}, 1)}
}

func (s *session) enqueue(req *discoveryv3.DiscoveryRequest) {
	s.mu.Lock()
	s.pending[req.GetTypeUrl()] = req
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *session) sendLoop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		}
		s.mu.Lock()
		var batch []*discoveryv3.DiscoveryRequest
		for _, t := range typeOrder {
			if r, ok := s.pending[t]; ok {
				batch = append(batch, r)
				delete(s.pending, t)
			}
		}
		s.mu.Unlock()
		for _, r := range batch {
			if err := s.stream.Send(r); err != nil {
				return err
			}
		}
	}
}
