package echobasic

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"
	pb "sigs.k8s.io/gateway-api/conformance/echo-basic/grpcechoserver"
)

// grpcEcho is the image's gRPC echo service (GRPC_ECHO_SERVER): it answers
// Echo and EchoTwo with what the call carried, from the generated types
// of the conformance module, which the suite's gRPC client decodes.
type grpcEcho struct {
	pb.UnimplementedGrpcEchoServer
	tls bool
	pod *pb.Context
}

func (e *grpcEcho) Echo(ctx context.Context, _ *pb.EchoRequest) (*pb.EchoResponse, error) {
	return e.echo(ctx, "Echo")
}

func (e *grpcEcho) EchoTwo(ctx context.Context, _ *pb.EchoRequest) (*pb.EchoResponse, error) {
	return e.echo(ctx, "EchoTwo")
}

func (e *grpcEcho) echo(ctx context.Context, method string) (*pb.EchoResponse, error) {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return nil, errors.New("failed to retrieve metadata from incoming request")
	}
	a := &pb.Assertions{
		FullyQualifiedMethod: "/" + pb.GrpcEcho_ServiceDesc.ServiceName + "/" + method,
		Context:              e.pod,
	}
	for k, vs := range md {
		for _, v := range vs {
			if k == ":authority" {
				a.Authority = v
			}
			a.Headers = append(a.Headers, &pb.Header{Key: k, Value: v})
		}
	}
	if e.tls {
		p, ok := peer.FromContext(ctx)
		if !ok {
			return nil, errors.New("failed to retrieve auth info from request")
		}
		info, ok := p.AuthInfo.(credentials.TLSInfo)
		if !ok {
			return nil, errors.New("failed to retrieve TLS info from request")
		}
		a.TlsAssertions = tlsAssertions(info.State)
	}
	return &pb.EchoResponse{Assertions: a}, nil
}

func tlsAssertions(st tls.ConnectionState) *pb.TLSAssertions {
	out := &pb.TLSAssertions{
		NegotiatedProtocol: st.NegotiatedProtocol,
		ServerName:         st.ServerName,
		CipherSuite:        tls.CipherSuiteName(st.CipherSuite),
	}
	// The image names only these versions; others stay empty.
	switch st.Version {
	case tls.VersionTLS13:
		out.Version = "TLSv1.3"
	case tls.VersionTLS12:
		out.Version = "TLSv1.2"
	case tls.VersionTLS11:
		out.Version = "TLSv1.1"
	case tls.VersionTLS10:
		out.Version = "TLSv1.0"
	}
	for _, c := range st.PeerCertificates {
		out.PeerCertificates = append(out.PeerCertificates, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	}
	return out
}

// startGRPC opens the gRPC mode's listeners: plaintext on HTTP_PORT, TLS
// on HTTPS_PORT with tlsCfg (the certificate and key set), each with the echo
// service and server reflection, as the image registers them.
func (s *Server) startGRPC(tlsCfg *tls.Config, listen func(int) (net.Listener, error)) error {
	pod := &pb.Context{Namespace: s.cfg.namespace, Ingress: s.cfg.ingress, ServiceName: s.cfg.service, Pod: s.cfg.pod}
	var creds credentials.TransportCredentials
	if tlsCfg != nil {
		creds = credentials.NewTLS(tlsCfg)
	}
	ln, err := listen(s.cfg.httpPort)
	if err != nil {
		return err
	}
	s.serveGRPC(ln, grpc.NewServer(), &grpcEcho{pod: pod}, "plaintext")
	if creds != nil {
		if ln, err = listen(s.cfg.httpsPort); err != nil {
			return err
		}
		s.serveGRPC(ln, grpc.NewServer(grpc.Creds(creds)), &grpcEcho{tls: true, pod: pod}, "secure")
	}
	return nil
}

func (s *Server) serveGRPC(ln net.Listener, srv *grpc.Server, echo *grpcEcho, kind string) {
	pb.RegisterGrpcEchoServer(srv, echo)
	reflection.Register(srv)
	if !s.register(grpcStopper{srv}, ln) {
		return
	}
	fmt.Fprintf(s.log, "%s server listening at %v\n", kind, ln.Addr())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.stopped("gRPC "+kind, ln, err)
		}
	}()
}

// grpcStopper is a gRPC server as Close stops it: at once, connections and
// all, as http.Server.Close does.
type grpcStopper struct{ *grpc.Server }

func (g grpcStopper) Close() error {
	g.Stop()
	return nil
}
