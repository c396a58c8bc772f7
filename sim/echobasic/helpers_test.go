package echobasic

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyconform/keyconform/internal/logcapture"
	"github.com/keyconform/keyconform/internal/testpki"
)

// baseEnv is the environment the tests' containers get unless they say
// otherwise.
func baseEnv() map[string]string {
	return map[string]string{
		"POD_NAME":     "infra-backend-v1-abc",
		"NAMESPACE":    "gateway-conformance-infra",
		"INGRESS_NAME": "ing",
		"SERVICE_NAME": "infra-backend-v1",
	}
}

// container is a started Server and the loopback address of each port it
// bound.
type container struct {
	*Server
	addrs map[int]string
	log   *logcapture.Buffer
}

func (c *container) addr(t *testing.T, port int) string {
	t.Helper()
	a, ok := c.addrs[port]
	if !ok {
		t.Fatalf("port %d was not bound; bound: %v", port, c.addrs)
	}
	return a
}

// start runs Start with every port on an ephemeral 127.0.0.1 port and
// files from files.
func start(t *testing.T, env map[string]string, files map[string][]byte) *container {
	t.Helper()
	c := &container{addrs: map[int]string{}, log: &logcapture.Buffer{}}
	s, err := Start(Options{
		Env: env,
		Listen: func(port int) (net.Listener, error) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err == nil {
				c.addrs[port] = ln.Addr().String()
			}
			return ln, err
		},
		ReadFile: mapFS(files),
		Log:      c.log,
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	c.Server = s
	return c
}

func mapFS(files map[string][]byte) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		b, ok := files[name]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return b, nil
	}
}

// rawResponse is an HTTP/1.1 response read off the wire, header names as
// sent.
type rawResponse struct {
	status int
	header http.Header
	// raw is everything read, for what follows the first response.
	raw string
	// lines are the header lines as sent.
	lines []string
	body  string
}

// rawRoundTrip writes request (a complete HTTP/1.1 request) to addr and
// reads the response off the wire, so that header case and the exact body
// can be checked; the request should ask for "Connection: close".
func rawRoundTrip(t *testing.T, addr, request string) (*rawResponse, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(conn)
	if err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	lines := strings.Split(head, "\r\n")[1:]
	return &rawResponse{status: resp.StatusCode, header: resp.Header, raw: string(raw), lines: lines, body: string(body)}, nil
}

func (r *rawResponse) hasLine(line string) bool {
	for _, l := range r.lines {
		if l == line {
			return true
		}
	}
	return false
}

// do sends req with c and returns the status, headers and body.
func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// decodeEcho decodes an echo body into the package's own type, refusing
// fields it does not know: the body has exactly the image's fields.
func decodeEcho(t *testing.T, body []byte) echoed {
	t.Helper()
	var e echoed
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("decoding echo %q: %v", body, err)
	}
	return e
}

// pki is a CA with a server and a client certificate, PEM encoded.
type pki struct {
	caPEM, serverCertPEM, serverKeyPEM []byte
	clientCert                         tls.Certificate
	clientCertPEM                      string
}

func newPKI(t *testing.T, serverName string) *pki {
	t.Helper()
	ca := testpki.NewCA(t, "echobasic test CA")
	p := &pki{caPEM: ca.PEM}
	p.serverCertPEM, p.serverKeyPEM = ca.Issue(t, x509.ExtKeyUsageServerAuth, serverName)
	clientCertPEM, clientKeyPEM := ca.Issue(t, x509.ExtKeyUsageClientAuth)
	p.clientCertPEM = string(clientCertPEM)
	var err error
	if p.clientCert, err = tls.X509KeyPair(clientCertPEM, clientKeyPEM); err != nil {
		t.Fatal(err)
	}
	return p
}
