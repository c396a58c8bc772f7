// Command httpbin serves go-httpbin, the seed's sample backend, on a loopback
// address, for the simulated pod network to route to.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/keyconform/keyconform/sim/httpbin"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8000", "loopback IP:port to serve on (port 0 picks a free port)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "httpbin: unexpected arguments %q; see -h\n", flag.Args())
		os.Exit(2)
	}
	s, err := httpbin.Start(*listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	slog.Info("httpbin listening", "addr", s.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	if err := s.Shutdown(context.Background()); err != nil {
		slog.Error("httpbin shutdown", "error", err)
		os.Exit(1)
	}
}
