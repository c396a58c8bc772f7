package echobasic

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/websocket"
)

// routes is the handler of the HTTP and HTTPS listeners.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", health)
	mux.HandleFunc("/status/", status)
	mux.HandleFunc("/retry/", s.retry)
	mux.Handle("/ws", websocket.Handler(s.websocketEcho))
	mux.HandleFunc("/", s.echo)
	return foldSlashes(mux)
}

// foldSlashes replaces "//" with "/" in the path before ServeMux sees it,
// which would otherwise answer such paths with a redirect to the cleaned
// path instead of echoing them. Only Path changes: the echo reports the
// request target as received, and RawPath is left as the image leaves it.
// A run of three slashes still leaves "//", which ServeMux redirects.
func foldSlashes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = strings.ReplaceAll(r.URL.Path, "//", "/")
		next.ServeHTTP(w, r)
	})
}

// h2cOnly is the handler of the h2c listener: every path echoes, but an
// HTTP/1.x request must at least ask for the h2c upgrade (which net/http
// does not perform, so it is then answered over HTTP/1.1).
func (s *Server) h2cOnly() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 && r.Header.Get("Upgrade") != "h2c" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, "Expected h2c request")
			return
		}
		s.echo(w, r)
	})
}

// health answers any method with 200 "OK"; net/http sniffs the content
// type (text/plain), as it does for the image.
func health(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "OK")
}

// status answers with the status code the request target names, exactly
// "/status/" and three digits; anything else, a query string included, is
// 400. The code goes to WriteHeader as is: a 1xx is sent as an
// informational response followed by 200, and a code below 100 makes
// net/http abort the response, as it does in the image.
func status(w http.ResponseWriter, r *http.Request) {
	code := http.StatusBadRequest
	if digits, ok := strings.CutPrefix(r.RequestURI, "/status/"); ok && threeDigits(digits) {
		code, _ = strconv.Atoi(digits)
	}
	w.WriteHeader(code)
}

func threeDigits(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// retries counts the attempts of each retry simulation, by its uuid.
type retries struct {
	mu       sync.Mutex
	attempts map[string]int
}

// retry is a backend that fails the first succeedAfter requests carrying
// a uuid, then echoes: the suite's check that a gateway retries. A failure
// resets the TCP connection, or answers with ?responseCode= when that is a
// number. The attempts stay locked for the whole answer, waits included,
// as in the image: concurrent simulations take turns.
func (s *Server) retry(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := q.Get("uuid")
	if id == "" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "uuid is required")
		return
	}
	succeedAfter, err := strconv.Atoi(q.Get("succeedAfter"))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "succeedAfter is required")
		return
	}
	fail := resetConnection
	if code, err := strconv.Atoi(q.Get("responseCode")); err == nil {
		fail = func(w http.ResponseWriter) error {
			w.WriteHeader(code)
			return nil
		}
	}

	s.retries.mu.Lock()
	defer s.retries.mu.Unlock()
	if s.retries.attempts[id] >= succeedAfter {
		s.echo(w, r)
		return
	}
	s.retries.attempts[id]++
	if err := s.delay(r, "delayRetry"); err != nil {
		writeError(w, err, http.StatusInternalServerError)
		return
	}
	if err := fail(w); err != nil {
		writeError(w, err, http.StatusInternalServerError)
	}
}

// errNoHijack is what a retry over HTTP/2 answers, which has no connection
// of its own to reset; its text is the "message" the client receives.
var errNoHijack = errors.New("response writer does not support hijacking")

// resetConnection takes the connection from net/http and closes it with a
// TCP RST (linger 0), so that the client sees a reset rather than an HTTP
// answer. A TLS connection cannot be lingered and is closed normally.
func resetConnection(w http.ResponseWriter) error {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return errNoHijack
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return err
	}
	if l, ok := conn.(interface{ SetLinger(int) error }); ok {
		if err := l.SetLinger(0); err != nil {
			conn.Close()
			return fmt.Errorf("resetting the connection: %w", err)
		}
	}
	return conn.Close()
}

// websocketEcho sends every frame of a WebSocket back until the client
// closes it. websocket.Handler refuses a handshake without an Origin
// header (403), as the image does with the same package.
func (s *Server) websocketEcho(ws *websocket.Conn) {
	fmt.Fprintln(s.log, "established websocket connection", ws.RemoteAddr())
	if !s.track(ws) {
		return
	}
	defer s.untrack(ws)
	_, _ = io.Copy(ws, ws) // ends when either side closes
}
