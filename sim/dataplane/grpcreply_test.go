package dataplane_test

import (
	"net/http"
	"testing"

	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/internal/xdstest"
	"github.com/keyconform/keyconform/sim/apikeyauth"
)

// A local reply to a gRPC request (content-type application/grpc or
// application/grpc+...: Grpc::Common::hasGrpcContentType) is gRPC's
// trailers-only form (Http::Utility::prepareLocalReply in
// source/common/http/utility.cc): HTTP 200, content-type application/grpc,
// grpc-status from the HTTP status (Grpc::Utility::httpToGrpcStatus: 401
// UNAUTHENTICATED 16, 403 PERMISSION_DENIED 7, 404 UNIMPLEMENTED 12, 503
// UNAVAILABLE 14), grpc-message the body without one trailing newline,
// percent-encoded (PercentEncoding::encode), no body. Other
// content types keep the plain local reply.
func TestGRPCLocalReplies(t *testing.T) {
	keyed := xdstest.PrefixRoute("keyed", "/keyed", clusterName)
	keyed.TypedPerFilterConfig = map[string]*anypb.Any{apikeyauth.FilterName: xdstest.APIKeyAuth(t, map[string]string{"client1": "k-1"}, false, "", "header:api-key")}
	e := startWith(t, noop, xdstest.RouteConfig(port, xdstest.VirtualHost(port, "h",
		keyed,
		xdstest.PrefixRoute("nowhere", "/nowhere", "no-such-cluster"),
		xdstest.DirectResponse("down", "/down", 503, "down ~ back soon\n"),
	)))
	tests := []struct {
		name, path, contentType string
		status                  int
		grpcStatus, grpcMessage string
		body                    string
	}{
		{"no key, gRPC", "/keyed", "application/grpc", 200, "16", "Client authentication failed.", ""},
		{"no key, gRPC with a subtype", "/keyed", "application/grpc+proto", 200, "16", "Client authentication failed.", ""},
		{"no key, not gRPC", "/keyed", "application/grpc-web", 401, "", "", "Client authentication failed."},
		{"no key, JSON", "/keyed", "application/json", 401, "", "", "Client authentication failed."},
		{"no route, gRPC", "/nothing", "application/grpc", 200, "12", "", ""},
		{"unknown cluster, gRPC", "/nowhere", "application/grpc", 200, "14", "", ""},
		// One trailing newline is dropped and '~' is encoded (ch >= '~').
		{"direct response, gRPC", "/down", "application/grpc", 200, "14", "down %7E back soon", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.do(t, request{method: http.MethodPost, host: "h", path: tt.path, headers: map[string]string{"content-type": tt.contentType}})
			if got.status != tt.status || got.body != tt.body {
				t.Fatalf("%d %q, want %d %q", got.status, got.body, tt.status, tt.body)
			}
			if s := got.header.Get("Grpc-Status"); s != tt.grpcStatus {
				t.Errorf("grpc-status %q, want %q", s, tt.grpcStatus)
			}
			if m := got.header.Get("Grpc-Message"); m != tt.grpcMessage {
				t.Errorf("grpc-message %q, want %q", m, tt.grpcMessage)
			}
			if tt.grpcStatus != "" && got.header.Get("Content-Type") != "application/grpc" {
				t.Errorf("content-type %q, want application/grpc", got.header.Get("Content-Type"))
			}
		})
	}
}
