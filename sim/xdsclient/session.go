package xdsclient

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// session serialises the requests of one ADS stream, in either wire form.
// It only records which types the server is owed a request for; each
// request is built as it is sent, from the subscription state of that
// moment, so asking twice before a send costs one request and no change is
// lost.
type session struct {
	stream  grpc.ClientStream
	mu      sync.Mutex
	pending map[string]bool
	wake    chan struct{}
}

func newSession(stream grpc.ClientStream) *session {
	return &session{stream: stream, pending: map[string]bool{}, wake: make(chan struct{}, 1)}
}

func (s *session) enqueue(typeURL string) {
	s.mu.Lock()
	s.pending[typeURL] = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sendLoop sends, type by type in Envoy's order, every request next builds
// until it has none left for the type.
func (s *session) sendLoop(ctx context.Context, next func(typeURL string, first bool) proto.Message) error {
	first := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		}
		s.mu.Lock()
		var types []string
		for _, t := range typeOrder {
			if s.pending[t] {
				types = append(types, t)
				delete(s.pending, t)
			}
		}
		s.mu.Unlock()
		for _, t := range types {
			for req := next(t, first); req != nil; req = next(t, first) {
				if err := s.stream.SendMsg(req); err != nil {
					return err
				}
				first = false
			}
		}
	}
}
