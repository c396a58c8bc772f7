// Package xdsclienttest runs the sim's ADS client (sim/xdsclient) in tests
// of an xDS server, with a Handler that records what each response held.
// The data plane's own client is the consumer the server must satisfy, so
// tests talk to the server through it rather than through a client of
// their own. It subscribes as Envoy does, accepts every response unless
// told to reject the next one of a type, and lets a test wait for a state.
package xdsclienttest

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/keyconform/keyconform/sim/xdsclient"
)

// connectTimeout bounds how long Start waits for the ADS stream.
const connectTimeout = 10 * time.Second

// State is the last configuration of one type the client accepted.
type State struct {
	Version   string
	Resources map[string]proto.Message
	// Responses counts every response of this type received, accepted or not.
	Responses int
}

// Client is one data plane's ADS client.
type Client struct {
	xds       *xdsclient.Client
	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	state   map[string]*State
	nack    map[string]string
	changed chan struct{}
}

// Start connects to the ADS server at addr (a loopback host:port) as node
// nodeID and returns once the stream is up. The stream ends with Close or
// with the test.
func Start(t testing.TB, addr, nodeID string) *Client {
	t.Helper()
	c := &Client{
		done:    make(chan struct{}),
		state:   map[string]*State{},
		nack:    map[string]string{},
		changed: make(chan struct{}),
	}
	x, err := xdsclient.New(xdsclient.Options{
		ServerAddress: addr,
		NodeID:        nodeID,
		Handler:       recorder{c},
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("ADS client: %v", err)
	}
	c.xds = x
	ctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	runErr := make(chan error, 1)
	go func() {
		defer close(c.done)
		runErr <- x.Run(ctx)
	}()
	t.Cleanup(c.Close)

	deadline := time.After(connectTimeout)
	for !x.Connected() {
		select {
		case <-c.done:
			t.Fatalf("ADS client for %s stopped before connecting: %v", addr, <-runErr)
		case <-deadline:
			t.Fatalf("no ADS stream to %s within %s", addr, connectTimeout)
		case <-time.After(5 * time.Millisecond):
		}
	}
	return c
}

// Close ends the stream and the connection. It may be called again.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		c.stop()
		<-c.done
	})
}

// Connected reports whether the ADS stream is up; the client reconnects
// after the server goes away, as a data plane does.
func (c *Client) Connected() bool { return c.xds.Connected() }

// NackNext makes the client reject the next response of typeURL with
// message as error_detail, as a data plane does with a configuration it
// cannot load.
func (c *Client) NackNext(typeURL, message string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nack[typeURL] = message
}

// Wait returns the state of typeURL once cond holds for it, or an error
// when ctx ends first.
func (c *Client) Wait(ctx context.Context, typeURL string, cond func(State) bool) (State, error) {
	for {
		c.mu.Lock()
		st, changed := c.snapshot(typeURL), c.changed
		c.mu.Unlock()
		if cond(st) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("waiting for %s (last version %q, %d responses): %w", typeURL, st.Version, st.Responses, ctx.Err())
		case <-changed:
		}
	}
}

// Current returns the state of typeURL now.
func (c *Client) Current(typeURL string) State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshot(typeURL)
}

func (c *Client) snapshot(typeURL string) State {
	st := c.state[typeURL]
	if st == nil {
		return State{}
	}
	return State{Version: st.Version, Resources: maps.Clone(st.Resources), Responses: st.Responses}
}
