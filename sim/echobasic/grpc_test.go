package echobasic

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	grpcstatus "google.golang.org/grpc/status"
	pb "sigs.k8s.io/gateway-api/conformance/echo-basic/grpcechoserver"
)

func grpcEnv() map[string]string {
	env := baseEnv()
	env["GRPC_ECHO_SERVER"] = "1"
	return env
}

func dialEcho(t *testing.T, addr string, creds credentials.TransportCredentials) pb.GrpcEchoClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewGrpcEchoClient(conn)
}

// TestGRPCEcho: in gRPC mode the HTTP port serves the echo service in
// plaintext, answering with the method, :authority, every header and the
// pod's context, and no h2c port is opened.
func TestGRPCEcho(t *testing.T) {
	c := start(t, grpcEnv(), nil)
	if len(c.addrs) != 1 {
		t.Fatalf("bound %v, want only the HTTP port", c.addrs)
	}
	client := dialEcho(t, c.addr(t, 3000), insecure.NewCredentials())
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-echo-test", "one", "x-echo-test", "two")
	for _, tt := range []struct {
		call   func(context.Context, *pb.EchoRequest, ...grpc.CallOption) (*pb.EchoResponse, error)
		method string
	}{{client.Echo, "Echo"}, {client.EchoTwo, "EchoTwo"}} {
		resp, err := tt.call(ctx, &pb.EchoRequest{})
		if err != nil {
			t.Fatalf("%s: %v", tt.method, err)
		}
		a := resp.GetAssertions()
		if want := "/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/" + tt.method; a.GetFullyQualifiedMethod() != want {
			t.Errorf("method %q, want %q", a.GetFullyQualifiedMethod(), want)
		}
		if a.GetAuthority() != c.addr(t, 3000) {
			t.Errorf("authority %q, want %q", a.GetAuthority(), c.addr(t, 3000))
		}
		var values []string
		for _, h := range a.GetHeaders() {
			if h.GetKey() == "x-echo-test" {
				values = append(values, h.GetValue())
			}
		}
		if !slices.Equal(values, []string{"one", "two"}) {
			t.Errorf("x-echo-test values %q, want one, two", values)
		}
		pod := a.GetContext()
		if pod.GetPod() != "infra-backend-v1-abc" || pod.GetNamespace() != "gateway-conformance-infra" ||
			pod.GetServiceName() != "infra-backend-v1" || pod.GetIngress() != "ing" {
			t.Errorf("context %v", pod)
		}
		if a.GetTlsAssertions() != nil {
			t.Errorf("TLS assertions on a plaintext call: %v", a.GetTlsAssertions())
		}
	}
	if _, err := client.EchoThree(ctx, &pb.EchoRequest{}); grpcstatus.Code(err) != codes.Unimplemented {
		t.Errorf("EchoThree: %v, want Unimplemented as the image answers", err)
	}
}

// TestGRPCEchoTLS: with TLS_SERVER_CERT and TLS_SERVER_PRIV_KEY the HTTPS
// port serves the echo over TLS and says what was negotiated.
func TestGRPCEchoTLS(t *testing.T) {
	p := newPKI(t, "grpc.example.com")
	env := grpcEnv()
	env["TLS_SERVER_CERT"], env["TLS_SERVER_PRIV_KEY"] = "/tls/crt", "/tls/key"
	c := start(t, env, map[string][]byte{"/tls/crt": p.serverCertPEM, "/tls/key": p.serverKeyPEM})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	client := dialEcho(t, c.addr(t, 8443), credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "grpc.example.com"}))
	resp, err := client.Echo(context.Background(), &pb.EchoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ta := resp.GetAssertions().GetTlsAssertions()
	if ta.GetVersion() != "TLSv1.3" || ta.GetServerName() != "grpc.example.com" || ta.GetNegotiatedProtocol() != "h2" || ta.GetCipherSuite() == "" {
		t.Errorf("TLS assertions %v", ta)
	}
}

// TestGRPCModeErrors: Serve serves HTTP only, and unreadable TLS files
// leave nothing bound.
func TestGRPCModeErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := Serve(ln, grpcEnv()); err == nil {
		t.Error("Serve accepted the gRPC mode")
	}
	env := grpcEnv()
	env["TLS_SERVER_CERT"], env["TLS_SERVER_PRIV_KEY"] = "/tls/crt", "/tls/key"
	bound := false
	_, err = Start(Options{Env: env, ReadFile: mapFS(nil), Listen: func(int) (net.Listener, error) {
		bound = true
		return net.Listen("tcp", "127.0.0.1:0")
	}})
	if err == nil || bound {
		t.Errorf("Start with missing TLS files: error %v, bound %v", err, bound)
	}
}
