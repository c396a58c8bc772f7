// Package admin serves an Envoy-like admin endpoint for the sim's data
// plane: /ready, /stats and /config_dump, on loopback only.
package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/keyconform/keyconform/sim/dataplane"
)

// Source is what the admin endpoint reports on; *dataplane.Proxy is one.
type Source interface {
	ServerState() string
	Stats() []dataplane.Stat
	ConfigDump(includeEDS bool) *adminv3.ConfigDump
}

// Handler serves /ready, /stats and /config_dump for src.
func Handler(src Source) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		// source/server/admin/server_info_handler.cc: the state name and a
		// newline; 200 only when LIVE.
		state := src.ServerState()
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		if state != "LIVE" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, state)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) { serveStats(w, r, src) })
	mux.HandleFunc("GET /config_dump", func(w http.ResponseWriter, r *http.Request) {
		_, includeEDS := r.URL.Query()["include_eds"]
		// Proto field names, pretty-printed, as Envoy prints the dump;
		// re-indented because protojson's own spacing is deliberately
		// unstable.
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(src.ConfigDump(includeEDS))
		var out bytes.Buffer
		if err == nil {
			err = json.Indent(&out, b, "", "  ")
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = out.WriteTo(w)
	})
	return mux
}

func serveStats(w http.ResponseWriter, r *http.Request, src Source) {
	stats := src.Stats()
	if f := r.URL.Query().Get("filter"); f != "" {
		re, err := regexp.Compile(f)
		if err != nil {
			http.Error(w, fmt.Sprintf("invalid regex %q: %v", f, err), http.StatusBadRequest)
			return
		}
		kept := stats[:0]
		for _, s := range stats {
			if re.MatchString(s.Name) {
				kept = append(kept, s)
			}
		}
		stats = kept
	}
	if r.URL.Query().Get("format") == "json" {
		type stat struct {
			Name  string `json:"name"`
			Value uint64 `json:"value"`
		}
		out := struct {
			Stats []stat `json:"stats"`
		}{Stats: []stat{}}
		for _, s := range stats {
			out.Stats = append(out.Stats, stat{s.Name, s.Value})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
		return
	}
	var b strings.Builder
	for _, s := range stats {
		b.WriteString(s.Name)
		b.WriteString(": ")
		b.WriteString(strconv.FormatUint(s.Value, 10))
		b.WriteByte('\n')
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	_, _ = w.Write([]byte(b.String()))
}

// Server is a running admin endpoint.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Start serves Handler(src) on addr, a loopback IP:port (port 0 picks one).
func Start(addr string, src Source) (*Server, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return nil, fmt.Errorf("admin address %q: want a loopback IP:port such as 127.0.0.1:19000", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	return Serve(ln, src), nil
}

// Serve serves the admin endpoint on ln, which the caller bound to a
// loopback address (a pod's own loopback, say), until Close.
func Serve(ln net.Listener, src Source) *Server {
	s := &Server{ln: ln, srv: &http.Server{Handler: Handler(src), ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("admin endpoint stopped", "error", err)
		}
	}()
	return s
}

// Addr is the admin endpoint's address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the admin endpoint.
func (s *Server) Close() error { return s.srv.Close() }
