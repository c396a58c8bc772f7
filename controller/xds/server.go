package xds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// gracePeriod bounds how long Serve waits for open streams to finish after
// its context is done before it closes them.
const gracePeriod = 5 * time.Second

// Server holds one xDS snapshot per Gateway and serves them over ADS.
// Publish and Serve may be called from different goroutines.
type Server struct {
	log   *slog.Logger
	cache cachev3.SnapshotCache

	// mu guards the fields below and orders Publish against stream
	// bookkeeping, so a Gateway cleared while its data plane is connected
	// is never half cleared.
	mu        sync.Mutex
	published map[string]*nodeState
	streams   map[int64]*streamState
	// connected counts the open streams per node id.
	connected map[string]int
}

// NewServer returns a Server with an empty snapshot cache. A nil logger
// discards logs.
func NewServer(logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{
		log: logger,
		// ads=true: responses wait until every resource a stream names
		// exists, which keeps EDS/RDS consistent with CDS/LDS.
		cache:     cachev3.NewSnapshotCache(true, cachev3.IDHash{}, cacheLogger{logger}),
		published: map[string]*nodeState{},
		streams:   map[int64]*streamState{},
		connected: map[string]int{},
	}
}

// Serve answers ADS streams on lis until ctx is done, then stops
// gracefully: open streams end, and after gracePeriod they are cut.
// It returns nil after a stop caused by ctx, an error if serving failed.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	// The go-control-plane server ends its streams when this context is
	// done, which is what lets GracefulStop return.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	g := grpc.NewServer(
		// Envoy keeps one long-lived ADS stream per connection and pings.
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 5 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 15 * time.Second, PermitWithoutStream: true}),
	)
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, serverv3.NewServer(ctx, s.cache, s.callbacks()))

	s.log.Info("xDS server listening", "address", lis.Addr().String())
	served := make(chan error, 1)
	go func() { served <- g.Serve(lis) }()

	select {
	case err := <-served:
		if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("serving xDS on %s: %w", lis.Addr(), err)
		}
		return nil
	case <-ctx.Done():
	}

	cancel()
	stopped := make(chan struct{})
	go func() {
		g.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(gracePeriod):
		s.log.Warn("xDS streams did not end in time; closing them", "grace", gracePeriod)
		g.Stop()
		<-stopped
	}
	<-served
	s.log.Info("xDS server stopped", "address", lis.Addr().String())
	return nil
}

// cacheLogger routes go-control-plane's logs to slog. Its Infof lines are
// per-request chatter, so they go to debug.
type cacheLogger struct{ log *slog.Logger }

func (l cacheLogger) Debugf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "go-control-plane")
}

func (l cacheLogger) Infof(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "go-control-plane")
}

func (l cacheLogger) Warnf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...), "component", "go-control-plane")
}

func (l cacheLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...), "component", "go-control-plane")
}
