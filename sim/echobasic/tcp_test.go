package echobasic

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"testing"

	"sigs.k8s.io/gateway-api/conformance/echo-basic/tcpserver"
)

// tcpExchange connects, reads the welcome line, then sends each line and
// reads one answer for each.
func tcpExchange(t *testing.T, conn net.Conn, lines ...string) []string {
	t.Helper()
	defer conn.Close()
	r := bufio.NewReader(conn)
	welcome, err := r.ReadString('\n')
	if err != nil || welcome != tcpserver.WelcomeMessage {
		t.Fatalf("welcome %q, %v", welcome, err)
	}
	var out []string
	for _, l := range lines {
		if _, err := conn.Write([]byte(l + "\n")); err != nil {
			t.Fatal(err)
		}
		answer, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %s: %v", l, err)
		}
		out = append(out, answer)
	}
	return out
}

// TestTCPEcho: in TCP mode TCP_PORT welcomes, then answers TEST with the
// pod's context as the conformance suite decodes it, IS_TLS and PING;
// a line it does not know gets no answer.
func TestTCPEcho(t *testing.T) {
	env := baseEnv()
	env["TCP_ECHO_SERVER"] = "1"
	c := start(t, env, nil)
	if len(c.addrs) != 1 {
		t.Fatalf("bound %v, want TCP_PORT only", c.addrs)
	}
	conn, err := net.Dial("tcp", c.addr(t, 3000))
	if err != nil {
		t.Fatal(err)
	}
	// HELLO gets no answer: the first answer read is PING's.
	got := tcpExchange(t, conn, "HELLO\nPING", "IS_TLS", "TEST")
	if got[0] != "PONG\n" || got[1] != "false\n" {
		t.Errorf("answers %q: an unknown line was answered, or PING/IS_TLS wrong", got)
	}
	var a tcpserver.TCPAssertions
	if err := json.Unmarshal([]byte(got[2]), &a); err != nil {
		t.Fatal(err)
	}
	if a.Pod != "infra-backend-v1-abc" || a.Namespace != "gateway-conformance-infra" || a.TCPPort != "3000" || a.TLSPort != "8443" || a.IsTLS || a.TLSAssertion != nil {
		t.Errorf("TEST answer %+v", a)
	}
}

// TestTCPEchoTLS: with TLS_SERVER_CERT and TLS_SERVER_PRIV_KEY, TLS_PORT
// serves the same over TLS and says what was negotiated.
func TestTCPEchoTLS(t *testing.T) {
	p := newPKI(t, "tcp.example.com")
	env := baseEnv()
	env["TCP_ECHO_SERVER"], env["TLS_SERVER_CERT"], env["TLS_SERVER_PRIV_KEY"] = "1", "/tls/crt", "/tls/key"
	c := start(t, env, map[string][]byte{"/tls/crt": p.serverCertPEM, "/tls/key": p.serverKeyPEM})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	conn, err := tls.Dial("tcp", c.addr(t, 8443), &tls.Config{RootCAs: pool, ServerName: "tcp.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	got := tcpExchange(t, conn, "IS_TLS", "TEST")
	var a tcpserver.TCPAssertions
	if err := json.Unmarshal([]byte(got[1]), &a); err != nil {
		t.Fatal(err)
	}
	if got[0] != "true\n" || !a.IsTLS || a.TLSAssertion == nil || a.TLSAssertion.ServerName != "tcp.example.com" || a.TLSAssertion.Version != "TLS 1.3" {
		t.Errorf("answers %q, TEST %+v", got[0], a.TLSAssertion)
	}
}
